// Faithful jobs, through the CLI as a researcher runs them, on the Slurm test bed and on the local target:
// each job runs the code it was submitted with, however many runs and edits overlap.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type CliResult, runCli, startCli, tempProject } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";
import { requireTestbed, sshArgs, type TestBed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";

const FILES = {
  "work.py": `
import os, time

def value(wait=0):
    time.sleep(wait)  # job A sleeps before it imports helper: an edit meanwhile must not reach it
    import helper
    return helper.V

def versions():
    import glob
    return sorted(set(open(p).read() for p in glob.glob("many/*.txt"))), len(glob.glob("many/*.txt"))

def write(name, n=3):
    os.makedirs("outputs/sub", exist_ok=True)
    for i in range(n):
        with open("outputs/sub/%d.txt" % i if i else "outputs/" + name, "w") as f:
            f.write(name)
    with open("results.csv", "w") as f:  # not shipped: the job's own working dir
        f.write(name)
    time.sleep(1)
    return open("results.csv").read()

def rewrite():
    with open("helper.py", "w") as f:
        f.write("V = 'corrupted'\\n")

def force_rewrite(path="helper.py"):
    # What an editor's :w! does to a read-only file its user owns (the tree's file, through the job's link), from
    # a program of its own, as an editor is: the job's own Python opens of shipped files are checked first.
    import subprocess
    subprocess.run(["sh", "-c", 'chmod u+w "$1" && echo "V = 1" > "$1" && chmod a-w "$1"', "sh", path], check=True)

def value_caught():
    try:
        import helper
        return helper.V
    except Exception as e:
        return "caught: %s" % type(e).__name__

def pollute():
    import subprocess
    tries = {}
    for name, mode in (("data/new.csv", "w"), ("data/table.csv", "a")):
        try:
            open(name, mode).write("x\\n")
            tries[name] = "written"
        except PermissionError:
            tries[name] = "refused"
    code = subprocess.run("echo x >> data/table.csv", shell=True, stderr=subprocess.DEVNULL).returncode
    tries["sh"] = "refused" if code else "written"
    return tries

def shipped_data():
    return sorted(os.listdir("data")), open("data/table.csv").read()
`,
  "helper.py": "V = 'old'\n",
  "data/table.csv": "a,1\n",
};

/** Removes dirs holding code trees (their dirs are read-only). */
const REMOVE = 'for d; do chmod -R u+w -- "$d" 2>/dev/null; rm -rf -- "$d"; done';
const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) c();
});

interface Target {
  name: string;
  /** A new project folder (the folder name may be given: clones). */
  project(folder?: string): string;
  env: Record<string, string>;
  /** The code store's dir, for looking inside. */
  run(command: string): string;
}

function localTarget(): Target {
  const cache = scratchDir("sr-faithful-cache-");
  cleanups.push(() => execFileSync("sh", ["-c", REMOVE, "sh", cache]));
  return {
    name: "local",
    env: { XDG_CACHE_HOME: cache },
    project: (folder) => newProject(folder, ""),
    run: (command) => execFileSync("sh", ["-c", command], { encoding: "utf8", cwd: `${cache}/slurmray` }),
  };
}

function slurmTarget(tb: TestBed): Target {
  const base = `/tmp/sr-faithful-${process.pid}`;
  cleanups.push(() => spawnSync("ssh", [...sshArgs(tb), `sh -c '${REMOVE}' sh ${base}`]));
  return {
    name: "tb",
    env: {},
    project: (folder) => newProject(folder, testbedToml(tb, { baseDir: base })),
    run: (command) => spawnSync("ssh", [...sshArgs(tb), `cd ${base} && ${command}`], { encoding: "utf8" }).stdout,
  };
}

function newProject(folder: string | undefined, toml: string): string {
  const cwd = folder ? join(scratchDir("sr-clone-"), folder) : tempProject({});
  mkdirSync(cwd, { recursive: true });
  for (const [name, content] of Object.entries({ ...FILES, "slurmray.toml": toml })) {
    mkdirSync(dirname(join(cwd, name)), { recursive: true });
    writeFileSync(join(cwd, name), content);
  }
  execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
  cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
  return cwd;
}

function parse(r: CliResult) {
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout);
}

const run = (target: Target, cwd: string, args: string[]) => runCli(["run", ...args, "--json"], { cwd, env: target.env, timeoutMs: 120_000 });
const start = (target: Target, cwd: string, args: string[]) => startCli(["run", ...args, "--json"], { cwd, env: target.env, timeoutMs: 120_000 });

function faithfulSuite(name: string, open: (t: TestContext) => Target | undefined): void {
  describe(`faithful jobs on ${name}`, () => {
    let target: Target | undefined;
    const get = (t: TestContext) => (target ??= open(t));

    it("job A sleeping, then an edit, then job B: A returns the old value and B the new", async (t) => {
      const tg = get(t);
      if (!tg) return;
      const cwd = tg.project();
      const a = start(tg, cwd, ["work.py:value", "--args", '{"wait": 3}']);
      const records = join(cwd, ".slurmray", "jobs");
      await waitFor(() => existsSync(records) && readdirSync(records).some((n) => n.endsWith(".json")));
      await sleep(500); // A is submitted: its tree is pinned
      writeFileSync(join(cwd, "helper.py"), "V = 'new'\n");
      const b = parse(await run(tg, cwd, ["work.py:value"]));
      assert.equal(b.result, "new");
      assert.equal(parse(await a.done).result, "old");
    });

    it("two runs started together with 400 files edited between them: each sees its own version; later runs and --dry-run agree", async (t) => {
      const tg = get(t);
      if (!tg) return;
      const cwd = tg.project();
      const edit = (v: string) => {
        mkdirSync(join(cwd, "many"), { recursive: true });
        // As editors save: a new file renamed over the old (an in-place rewrite can be read half-written).
        for (let i = 0; i < 400; i++) {
          writeFileSync(join(cwd, `${i}.tmp`), v);
          renameSync(join(cwd, `${i}.tmp`), join(cwd, "many", `${i}.txt`));
        }
      };
      edit("v0");
      for (let round = 1; round <= 5; round++) {
        const first = start(tg, cwd, ["work.py:versions"]);
        edit(`v${round}`);
        const second = parse(await run(tg, cwd, ["work.py:versions"]));
        const one = parse(await first.done);
        // The first read some files before and some after the edit: whatever it read, it has all 400.
        assert.equal(one.result[1], 400);
        assert.ok(one.result[0].every((v: string) => v === `v${round - 1}` || v === `v${round}`), JSON.stringify(one.result));
        assert.deepEqual(second.result, [[`v${round}`], 400]);
        const dry = parse(await run(tg, cwd, ["work.py:versions", "--dry-run"]));
        assert.deepEqual(dry.dry_run, [], "the target already holds this version");
      }
      assert.deepEqual(parse(await run(tg, cwd, ["work.py:versions"])).result, [["v5"], 400]);
    });

    it("SIGKILL of the CLI in the middle of a code sync, then a run: correct", async (t) => {
      const tg = get(t);
      if (!tg) return;
      const cwd = tg.project();
      mkdirSync(join(cwd, "many"));
      for (let i = 0; i < 1500; i++) writeFileSync(join(cwd, "many", `${i}.txt`), "v1");
      for (let i = 0; i < 40; i++) writeFileSync(join(cwd, `big${i}.bin`), Buffer.alloc(1 << 20, i));
      const killed = start(tg, cwd, ["work.py:versions"]);
      // Killed once the code sync has begun (its upload takes a while: 40 MB).
      await waitFor(() => tg.run("ls objects/*/ 2>/dev/null | head -n 1").trim() !== "", 20);
      killed.child.kill("SIGKILL");
      assert.equal((await killed.done).signal, "SIGKILL");
      const records = join(cwd, ".slurmray", "jobs");
      assert.ok(!existsSync(records) || !readdirSync(records).some((n) => n.endsWith(".json")), "killed before any job was submitted");
      const r = parse(await run(tg, cwd, ["work.py:versions"]));
      assert.deepEqual(r.result, [["v1"], 1500]);
    });

    it("two clones with one folder name: each runs its own code, one after the other and at the same time", async (t) => {
      const tg = get(t);
      if (!tg) return;
      const [a, b] = [tg.project("exp"), tg.project("exp")];
      writeFileSync(join(b, "helper.py"), "V = 'clone b'\n");
      assert.equal(parse(await run(tg, a, ["work.py:value"])).result, "old");
      assert.equal(parse(await run(tg, b, ["work.py:value"])).result, "clone b");
      assert.equal(parse(await run(tg, a, ["work.py:value"])).result, "old");
      writeFileSync(join(a, "helper.py"), "V = 'clone a'\n");
      const [ra, rb] = await Promise.all([run(tg, a, ["work.py:value"]), run(tg, b, ["work.py:value"])]);
      assert.deepEqual([parse(ra).result, parse(rb).result], ["clone a", "clone b"]);
    });

    it("outputs: 3 files come back; two concurrent jobs writing the same paths keep their own", async (t) => {
      const tg = get(t);
      if (!tg) return;
      const cwd = tg.project();
      const [one, two] = (await Promise.all([run(tg, cwd, ["work.py:write", "--args", '{"name": "one"}']), run(tg, cwd, ["work.py:write", "--args", '{"name": "two"}'])])).map(parse);
      assert.deepEqual([one.result, two.result], ["one", "two"]);
      for (const [report, name] of [[one, "one"], [two, "two"]] as const) {
        const dir = join(cwd, ".slurmray", "jobs", report.job_id, "outputs");
        assert.equal(report.outputs.dir, dir);
        assert.deepEqual(["one", "sub/1.txt", "sub/2.txt"].map((f) => readFileSync(join(dir, f === "one" ? name : f), "utf8")), [name, name, name]);
      }
      const elsewhere = join(scratchDir("sr-out-"), "got");
      cleanups.push(() => rmSync(elsewhere, { recursive: true, force: true }));
      const fetched = await runCli(["result", one.job_id, "--outputs", elsewhere], { cwd, env: tg.env });
      assert.equal(fetched.code, 0, fetched.stderr);
      assert.match(fetched.stderr, /3 file\(s\) brought back/);
      const again = await runCli(["result", one.job_id, "--outputs", elsewhere], { cwd, env: tg.env });
      assert.match(again.stderr, /\(0 file\(s\) brought back\)/, "only changed files travel");

      // A detached job's outputs come back when attach follows it to its end, as run would have brought them.
      const detached = await runCli(["run", "work.py:write", "--args", '{"name": "three"}', "--detach"], { cwd, env: tg.env });
      assert.equal(detached.code, 0, detached.stderr);
      const id = detached.stdout.trim();
      const attached = await runCli(["attach", id, "--json"], { cwd, env: tg.env });
      assert.equal(attached.code, 0, attached.stderr);
      const report = JSON.parse(attached.stdout);
      const dir = join(cwd, ".slurmray", "jobs", id, "outputs");
      assert.deepEqual([report.result, report.outputs?.dir], ["three", dir]);
      assert.deepEqual(["three", "sub/1.txt", "sub/2.txt"].map((f) => readFileSync(join(dir, f), "utf8")), ["three", "three", "three"]);
    });
  });
}

async function waitFor(check: () => boolean, seconds = 30): Promise<void> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    try {
      if (check()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > end) throw new Error("timed out waiting");
    await sleep(50);
  }
}

faithfulSuite("the Slurm test bed", (t) => {
  const tb = requireTestbed(t);
  return tb ? slurmTarget(tb) : undefined;
});
faithfulSuite("the local target", () => localTarget());

// On the local target the job runs as whoever runs the tests: root in CI, whose power to write through file
// modes the runner drops (src/remote/slurmray_root_writes.py); on the bed, a plain user.
function readOnlySuite(name: string, open: (t: TestContext) => Target | undefined): void {
  describe(`shipped files are read-only for the job, on ${name}`, () => {
    it("a job that rewrites one gets a clear error and the next job still reads the original", async (t) => {
      const tg = open(t);
      if (!tg) return;
      const cwd = tg.project();
      const r = await run(tg, cwd, ["work.py:rewrite"]);
      assert.notEqual(r.code, 0);
      const report = JSON.parse(r.stdout);
      assert.match(report.error.message, /Permission denied.*helper\.py.*shipped files are read-only/);
      assert.equal(parse(await run(tg, cwd, ["work.py:value"])).result, "old");
    });

    it("a job that makes a shipped file writable and rewrites it corrupts no later job: the next fails saying so, even when its code catches that, and the one after runs the shipped file", async (t) => {
      const tg = open(t);
      if (!tg) return;
      const cwd = tg.project();
      assert.equal((await run(tg, cwd, ["work.py:force_rewrite"])).code, 0);
      const r = await run(tg, cwd, ["work.py:value_caught"]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(JSON.parse(r.stdout).error.message, /changed after they were shipped: helper\.py/);
      const dry = JSON.parse((await runCli(["run", "work.py:value", "--dry-run", "--json"], { cwd, env: tg.env })).stdout);
      assert.deepEqual(dry.dry_run.map((line: string) => line.replace(/ .*/, "")), ["repair"], "--dry-run says the next run repairs the tree");
      assert.equal(parse(await run(tg, cwd, ["work.py:value"])).result, "old");
      assert.equal(parse(await run(tg, cwd, ["work.py:value_caught"])).result, "old");
    });

    it("so does one that rewrites a shipped data file: the next job that reads it fails saying so", async (t) => {
      const tg = open(t);
      if (!tg) return;
      const cwd = tg.project();
      assert.equal((await run(tg, cwd, ["work.py:force_rewrite", "--args", '{"path": "data/table.csv"}'])).code, 0);
      const r = await run(tg, cwd, ["work.py:shipped_data"]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(JSON.parse(r.stdout).error.message, /changed after they were shipped: data\/table\.csv/);
      assert.deepEqual(parse(await run(tg, cwd, ["work.py:shipped_data"])).result, [["table.csv"], "a,1\n"]);
    });

    it("neither a new file in a shipped folder nor a program the job starts changes the tree the next job of that code gets", async (t) => {
      const tg = open(t);
      if (!tg) return;
      const cwd = tg.project();
      assert.deepEqual(parse(await run(tg, cwd, ["work.py:pollute"])).result, { "data/new.csv": "refused", "data/table.csv": "refused", sh: "refused" });
      assert.deepEqual(parse(await run(tg, cwd, ["work.py:shipped_data"])).result, [["table.csv"], "a,1\n"]);
    });
  });
}

readOnlySuite("the Slurm test bed", (t) => {
  const tb = requireTestbed(t);
  return tb ? slurmTarget(tb) : undefined;
});
readOnlySuite("the local target", () => localTarget());
