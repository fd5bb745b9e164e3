// Envs never change under a job, through the CLI on the real Slurm bed: job A waits in the queue or runs,
// the snapshot changes, job B is submitted; A imports the package after the change and still sees its
// version, B sees the new one, and the old env is removed by `clean` once A has ended. The same holds when
// B comes from another clone sharing the project's `name`.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { SHARED_SETTLE_MINUTES } from "../../../src/envsync/generations.js";
import { runJob } from "../../../src/jobs/run.js";
import { closeSessions } from "../../../src/jobs/session.js";
import { NO_ARGS } from "../../../src/model/job-args.js";
import type { JsonText } from "../../../src/util/json-text.js";
import { CLI, runCli, startCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed, runOnBed, sshArgs, type TestBed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";
import { wheelIndex } from "../../helpers/wheel-index.js";

after(async () => (await wheelIndex()).stop());

async function json(cwd: string, args: string[]) {
  const r = await runCli([...args, "--json"], { cwd, timeoutMs: 180_000 });
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function ssh(tb: TestBed, command: string): number | null {
  return spawnSync("ssh", [...sshArgs(tb), command], { encoding: "utf8" }).status;
}

const USE = `import os, sys, time

def later(flag):
    while not os.path.exists(flag):
        time.sleep(0.1)
    import alpha
    return [alpha.__version__, sys.prefix]

def now():
    import alpha
    return [alpha.__version__, sys.prefix]
`;

interface AlphaProject {
  cwd: string;
  baseDir: string;
  pins: (version: string) => string;
  /** Another clone of the project (in a folder of its own) with the same config: a shared `name` shares its remote state. */
  clone: () => string;
}

/**
 * A project on the bed whose requirements pin alpha 1.0 from the test index (its remote base_dir removed
 * after); `sharedName` sets the config's `name`.
 */
async function alphaProject(t: TestContext, tb: TestBed, name: string, sharedName?: string, target = ""): Promise<AlphaProject> {
  const { url } = await wheelIndex();
  const baseDir = `/tmp/${name}-${process.pid}-${Date.now()}`;
  t.after(() => removeRemote(tb, [baseDir]));
  const pins = (version: string): string => `--index-url ${url}\nalpha==${version}\n`;
  const project = `${sharedName ? `name = "${sharedName}"\n` : ""}requirements = "requirements.txt"\n\n`;
  const clone = (): string =>
    tempProject({
      "slurmray.toml": testbedToml(tb, { baseDir, extra: target }).replace("[targets.tb]", `${project}[targets.tb]`),
      "requirements.txt": pins("1.0"),
      "use.py": USE,
    });
  return { cwd: clone(), baseDir, pins, clone };
}

describe("env generations through the CLI on the Slurm bed", () => {
  it("job A keeps its env while job B gets the changed package; clean removes A's env once A has ended", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const { cwd, baseDir, pins } = await alphaProject(t, tb, "sr-envgen-cli");
    const flag = `${baseDir}/go`;
    const record = (id: string): { python: string } => JSON.parse(readFileSync(join(cwd, ".slurmray", "jobs", `${id}.json`), "utf8"));

    const a = await json(cwd, ["run", "use.py:later", "--args", JSON.stringify({ flag }), "--detach"]);
    writeFileSync(join(cwd, "requirements.txt"), pins("1.1"));
    // B detached too: on a one-slot bed it may queue behind A, which waits for the flag.
    const b = await json(cwd, ["run", "use.py:now", "--detach"]);
    assert.deepEqual(b.env.changed, [{ name: "alpha", from: "1.0", to: "1.1" }]);
    const envA = record(a.job_id).python.replace(/\/bin\/python$/, "");
    const envB = record(b.job_id).python.replace(/\/bin\/python$/, "");
    assert.equal(envB, `${envA}-1`, "B's env is built beside A's");
    assert.equal(ssh(tb, `touch '${flag}'`), 0);

    const resultA = await json(cwd, ["attach", a.job_id]);
    const resultB = await json(cwd, ["attach", b.job_id]);
    assert.deepEqual(resultA.result, ["1.0", envA], "A imported alpha after the change and saw its own version");
    assert.deepEqual(resultB.result, ["1.1", envB]);

    // The warm path names B's env; then clean removes A's, which no job uses any more.
    const warm = await json(cwd, ["run", "use.py:now"]);
    assert.deepEqual(warm.result, ["1.1", envB]);
    assert.equal(warm.env.reused, true);
    const clean = await json(cwd, ["clean"]);
    assert.deepEqual(clean.envs_removed, [envA]);
    assert.equal(ssh(tb, `test -e '${envA}'`), 1, "the old env is gone");
    assert.equal(ssh(tb, `test -x '${envB}/bin/python'`), 0, "the current env stays");
  });

  it("a job a node failure ended is not submitted again with an env another run changed in the meantime: run says so, nothing runs", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    // --exclusive: no other test's job shares the node this test sets DOWN.
    const { cwd, baseDir, pins } = await alphaProject(t, tb, "sr-envretry-cli", undefined, 'sbatch = ["--no-requeue", "--exclusive"]\nmax_retries = 1\n');
    const flag = `${baseDir}/go`;
    const a = startCli(["run", "use.py:later", "--args", JSON.stringify({ flag }), "--json"], { cwd, timeoutMs: 180_000 });
    const recordA = (): { python: string; schedulerId: string | null; state: string; reason: string | null } => {
      const dir = join(cwd, ".slurmray", "jobs");
      const file = existsSync(dir) ? readdirSync(dir).find((name) => name.endsWith(".json")) : undefined;
      return file ? JSON.parse(readFileSync(join(dir, file), "utf8")) : { python: "", schedulerId: null, state: "", reason: null };
    };
    let node = "";
    for (let i = 0; i < 600 && !node; i++) {
      const id = recordA().schedulerId;
      node = id ? runOnBed(tb, `squeue -h -t R -j ${id} -o %N`).trim() : "";
      if (!node) await sleep(100);
    }
    assert.ok(node, "job A started");
    const scontrol = (state: string) =>
      execFileSync("scontrol", ["update", `NodeName=${node}`, `State=${state}`, ...(state === "DOWN" ? ["Reason=slurmray-env-retry-test"] : [])], {
        env: { ...process.env, SLURM_CONF: tb.slurmConf },
      });
    try {
      // A's run is held still while its node fails and another run changes the env: the moment between the
      // job leaving the queue and its run submitting it again, made long.
      a.child.kill("SIGSTOP");
      scontrol("DOWN");
      for (let i = 0; i < 300 && runOnBed(tb, `squeue -h -j ${recordA().schedulerId}`).trim(); i++) await sleep(100);
      writeFileSync(join(cwd, "requirements.txt"), pins("1.1"));
      const sync = await json(cwd, ["env", "sync"]);
      const envA = recordA().python.replace(/\/bin\/python$/, "");
      assert.equal(sync.env_dir, envA, "changed in place: no live job used it");
      runOnBed(tb, `touch '${flag}'`);
      a.child.kill("SIGCONT");
      const r = await a.done;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /the job ended because a node failed; submitting it again/i);
      assert.match(r.stderr, new RegExp(`the env ${envA} no longer holds the packages this job was submitted with \\(another run changed them since\\): nothing was submitted`));
      assert.equal(recordA().state, "FAILED");
      assert.match(recordA().reason ?? "", /no longer holds the packages this job was submitted with/);
    } finally {
      a.child.kill("SIGCONT");
      // The bed's ReturnToService=2 may already have brought the node back, which makes RESUME an error.
      if (/down/i.test(runOnBed(tb, `sinfo -h -n ${node} -o %T`))) scontrol("RESUME");
    }
  });

  it("while another run holds a claim (synced, not yet recorded), a change is made beside the current env and nothing is removed", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const { cwd, pins } = await alphaProject(t, tb, "sr-envclaim-cli");
    const first = await json(cwd, ["env", "sync"]);
    // Another run of this project (this test's process stands for it) has synced that env and not yet
    // recorded its job: its claim is the only sign of it.
    mkdirSync(join(cwd, ".slurmray", "jobs"), { recursive: true });
    const claim = join(cwd, ".slurmray", "jobs", "20261201-120000-c1a1a1.claim");
    writeFileSync(claim, `${process.pid}\n`);
    writeFileSync(join(cwd, "requirements.txt"), pins("1.1"));
    const beside = await json(cwd, ["env", "sync"]);
    assert.equal(beside.env_dir, `${first.env_dir}-1`, "built beside the env the claiming run may submit with");
    assert.equal(ssh(tb, `grep -q 'Version: 1.0' '${first.env_dir}'/lib/python3*/site-packages/alpha-1.0.dist-info/METADATA`), 0, "that env still holds alpha 1.0");
    assert.deepEqual((await json(cwd, ["clean"])).envs_removed, [], "nothing removed while the claim is held");
    // The claiming process is gone (its claim is left behind): the claim counts for nothing and is removed.
    writeFileSync(claim, "2147483646\n");
    assert.deepEqual((await json(cwd, ["clean"])).envs_removed, [first.env_dir]);
    assert.equal(existsSync(claim), false);
    const warm = await json(cwd, ["run", "use.py:now"]);
    assert.deepEqual(warm.result, ["1.1", beside.env_dir]);
    const claims = (): string[] => readdirSync(join(cwd, ".slurmray", "jobs")).filter((name) => name.endsWith(".claim"));
    assert.deepEqual(claims(), [], "the run's own claim is gone once its job is recorded");
    writeFileSync(join(cwd, "requirements.txt"), "--index-url http://127.0.0.1:1/simple/\nalpha==1.0\n");
    const failed = await runCli(["run", "use.py:now"], { cwd, timeoutMs: 180_000 });
    assert.match(failed.stderr, /index|connect/i, "nothing serves the index on port 1");
    assert.notEqual(failed.code, 0);
    assert.deepEqual(claims(), [], "a run whose env sync failed leaves no claim");
  });

  it("clones sharing the project's name: a change is always built beside, and an env goes only when no job uses it and the switch has settled", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const shared = `sr-shared-${process.pid}`;
    const { cwd, baseDir, pins, clone } = await alphaProject(t, tb, "sr-envshare-cli", shared);
    const other = clone();
    const flag = `${baseDir}/go`;
    const a = await json(cwd, ["run", "use.py:later", "--args", JSON.stringify({ flag }), "--detach"]);
    const envA = (JSON.parse(readFileSync(join(cwd, ".slurmray", "jobs", `${a.job_id}.json`), "utf8")) as { python: string }).python.replace(/\/bin\/python$/, "");
    // The other clone has no record of A: only the target knows A is alive and which env it runs.
    writeFileSync(join(other, "requirements.txt"), pins("1.1"));
    const synced = await json(other, ["env", "sync"]);
    assert.equal(synced.env_dir, `${envA}-1`, "the other clone's change is built beside A's env");
    assert.deepEqual((await json(other, ["clean"])).envs_removed, [], "the other clone's clean keeps A's env while A runs");
    assert.equal(ssh(tb, `touch '${flag}'`), 0);
    assert.deepEqual((await json(cwd, ["attach", a.job_id])).result, ["1.0", envA], "A imported the alpha it was submitted with");
    // No job runs now, yet a change is still built beside: a run of a clone may have probed the current env
    // and not yet submitted its job, which only that clone knows.
    writeFileSync(join(other, "requirements.txt"), pins("2.0"));
    assert.equal((await json(other, ["env", "sync"])).env_dir, `${envA}-2`, "never changed in place");
    assert.deepEqual((await json(other, ["clean"])).envs_removed, [], "nothing removed right after a switch");
    // The settling time has passed since that switch (the pointer's mtime says when it was).
    assert.equal(ssh(tb, `touch -d '${SHARED_SETTLE_MINUTES + 1} minutes ago' '${envA}.current'`), 0);
    assert.deepEqual((await json(other, ["clean"])).envs_removed.sort(), [envA, `${envA}-1`], "then the envs no job uses go");
  });

  it("a second sync in the moment between a run's env sync and its submission leaves that run's env as it synced it", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const { cwd, pins } = await alphaProject(t, tb, "sr-envrace-cli");
    let second: { env_dir: string } | null = null;
    // Run A has synced alpha 1.0 and not yet submitted: B, in another shell, syncs alpha 1.1 then (A's event
    // loop waits for it, so that B falls exactly in that moment).
    const onStep = (step: { step: string; phase: string }): void => {
      if (step.step !== "env_sync" || step.phase !== "end" || second) return;
      writeFileSync(join(cwd, "requirements.txt"), pins("1.1"));
      const b = spawnSync(process.execPath, [CLI, "env", "sync", "--json"], { cwd, encoding: "utf8", timeout: 180_000 });
      assert.equal(b.status, 0, b.stderr);
      second = JSON.parse(b.stdout);
    };
    const a = await runJob({ cwd, entry: "use.py:now", args: NO_ARGS, scriptArgs: [], resources: {}, dryRun: false, detach: false, onStep });
    await closeSessions();
    const result = (a.result as JsonText).parse() as string[];
    const envA = result[1]!;
    assert.deepEqual(result, ["1.0", envA], "A's job imported the alpha A synced");
    assert.equal(second!.env_dir, `${envA}-1`, "B's change was built beside A's env");
  });
});
