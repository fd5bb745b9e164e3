// Progress of `run` on the Slurm test bed, without a terminal: a timestamped line for each step (connect, code
// sync with files and bytes, env sync, queue, run), and with --verbose every remote command once, with its
// exit code and duration; an env change names each package the installer installs, n of m.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, type TestBed, testbed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";
import { wheelIndex } from "../../helpers/wheel-index.js";

describe("progress on the Slurm test bed", () => {
  let tb: TestBed | null = null;
  const baseDir = `/tmp/srcli-${randomBytes(4).toString("hex")}`;
  before(() => {
    tb = testbed();
    if (!tb && process.env["CI"] === "true") throw new Error("test bed not running: bash scripts/test-cluster.sh up");
  });
  after(async () => {
    if (tb) removeRemote(tb, [baseDir, `${baseDir}-env`]);
    await (await wheelIndex()).stop();
  });

  it("shows each step, then with --verbose each remote command", async (t) => {
    if (!tb) return t.skip("test bed not running: bash scripts/test-cluster.sh up");
    const cwd = tempProject({ "slurmray.toml": testbedToml(tb, { baseDir }), "work.py": "def hello():\n    print('hi from the job', flush=True)\n    return 7\n" });
    execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);

    const first = await runCli(["run", "work.py:hello"], { cwd, timeoutMs: 120_000 });
    assert.equal(first.code, 0, first.stderr);
    const steps = [
      /^\d\d:\d\d:\d\d connecting to \S+/m,
      /^\d\d:\d\d:\d\d connected to \S+ \(\d+\.\d s\)$/m,
      /^\d\d:\d\d:\d\d code sync: \d+ file\(s\), \d+ KB sent \(\d+\.\d s\)$/m,
      /^\d\d:\d\d:\d\d env sync: created/m,
      /^\d\d:\d\d:\d\d job \S+: submitted to tb as job \d+, waiting to start$/m,
      /^hi from the job$/m,
      /^\d\d:\d\d:\d\d job \S+ ended COMPLETED \(\d+\.\d s\)$/m,
    ];
    // (A "running" line comes when the watch sees the job RUNNING before its first output; a job this short
    // may print first.)
    let at = 0;
    for (const step of steps) {
      const found = first.stderr.slice(at).search(step);
      assert.ok(found >= 0, `${step} after offset ${at} in:\n${first.stderr}`);
      at += found;
    }

    const warm = await runCli(["run", "work.py:hello", "--verbose", "--json"], { cwd, timeoutMs: 120_000 });
    assert.equal(warm.code, 0, warm.stderr);
    const report = JSON.parse(warm.stdout);
    assert.match(warm.stderr, /code sync: the target is up to date/);
    assert.match(warm.stderr, /env sync: in step, nothing installed/);
    const commands = warm.stderr.match(/^ {2}\$ .+ {2}\[exit \d+, \d+ ms\]$/gm) ?? [];
    assert.equal(commands.length, report.remote_commands, warm.stderr);
    assert.ok(commands.length >= 3, "probe, submit and watch at least");
  });

  it("names each package the installer installs, n of m, on a line of its own", async (t) => {
    if (!tb) return t.skip("test bed not running: bash scripts/test-cluster.sh up");
    const { url } = await wheelIndex();
    const pins = (lines: string): string => `--index-url ${url}\n${lines}\n`;
    const cwd = tempProject({
      "slurmray.toml": testbedToml(tb, { baseDir: `${baseDir}-env` }).replace("[targets.tb]", 'requirements = "requirements.txt"\n\n[targets.tb]'),
      "requirements.txt": pins("alpha==1.0\nbeta==2.0\ngamma==1.0"),
      "use.py": "def ok():\n    return 1\n",
    });
    const line = (text: string): RegExp => new RegExp(`^\\d\\d:\\d\\d:\\d\\d env sync: ${text.replace(/[()]/g, "\\$&")}$`, "m");

    const created = await runCli(["run", "use.py:ok"], { cwd, timeoutMs: 180_000 });
    assert.equal(created.code, 0, created.stderr);
    for (const text of ["installed alpha (1 of 3)", "installed beta (2 of 3)", "installed gamma (3 of 3)"]) {
      assert.match(created.stderr, line(text), created.stderr);
    }
    // The step's end counts requirements, not the installer's packages, and says so.
    assert.match(created.stderr, /env sync: created, installed 3 requirement\(s\): alpha, beta, gamma \(/, created.stderr);
    // In order, before the step's end.
    const at = ["(1 of 3)", "(2 of 3)", "(3 of 3)", "env sync: created"].map((text) => created.stderr.indexOf(text));
    assert.deepEqual([...at].sort((a, b) => a - b), at, created.stderr);

    writeFileSync(join(cwd, "requirements.txt"), pins("alpha==1.1\nbeta==2.0\ngamma==1.0"));
    const changed = await runCli(["run", "use.py:ok", "--json"], { cwd, timeoutMs: 180_000 });
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(JSON.parse(changed.stdout).env.changed, [{ name: "alpha", from: "1.0", to: "1.1" }]);
    assert.match(changed.stderr, line("installed alpha (1 of 1)"), changed.stderr);
    assert.doesNotMatch(changed.stderr, /env sync: installed (beta|gamma)/);

    // `env sync` shows the same lines.
    writeFileSync(join(cwd, "requirements.txt"), pins("alpha==1.1\nbeta==2.0\ngamma==1.0\ndelta==1.0"));
    const synced = await runCli(["env", "sync"], { cwd, timeoutMs: 180_000 });
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stderr, line("installed delta (1 of 2)"), synced.stderr);
    assert.match(synced.stderr, line("installed epsilon (2 of 2)"), synced.stderr);
  });
});
