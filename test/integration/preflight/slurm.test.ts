// Pre-flight on the real cluster: requests no node of the partition could ever run are refused with exit 2
// and a message naming the limit, before any code or package is sent and with nothing queued.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";
import { sshArgs, type TestBed, testbed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";

function remote(tb: TestBed, command: string): string {
  return spawnSync("ssh", [...sshArgs(tb), command], { encoding: "utf8" }).stdout;
}

describe("pre-flight checks against the Slurm partition", () => {
  let tb: TestBed | null = null;
  const baseDir = `.slurmray-preflight-${process.pid}`;
  before(() => {
    tb = testbed();
    if (!tb && process.env["CI"] === "true") throw new Error("test bed not running: bash scripts/test-cluster.sh up");
  });
  after(() => {
    if (tb) remote(tb, `rm -rf ~/${baseDir}`);
  });

  it("refuses --time over the partition's limit, too many nodes, and GPUs where none exist; nothing is sent or queued", async (t) => {
    if (!tb) return t.skip("test bed not running: bash scripts/test-cluster.sh up");
    const cwd = tempProject({ "main.py": "def f():\n    return 1\n", "slurmray.toml": testbedToml(tb, { baseDir: `~/${baseDir}` }) });
    execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
    const cases: [string[], RegExp][] = [
      [["--partition", "short", "--time", "10"], /--time 10: partition "short" allows at most 5 minutes/],
      [["--nodes", "5"], /--nodes 5: partition "debug" has 3 nodes/],
      [["--gpus", "1"], /--gpus 1: partition "debug": no node of it has a GPU/],
    ];
    for (const [flags, message] of cases) {
      const run = await runCli(["run", "main.py:f", ...flags], { cwd, timeoutMs: 60_000 });
      assert.equal(run.code, 2, `${flags.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    const jobsDir = join(cwd, ".slurmray", "jobs");
    assert.deepEqual(existsSync(jobsDir) ? readdirSync(jobsDir) : [], [], "no job was recorded");
    assert.equal(remote(tb, `ls ~/${baseDir}/projects 2>/dev/null; ls ~/${baseDir}/envs 2>/dev/null`).trim(), "", "no code or env was sent");
    assert.ok(!remote(tb, "squeue -h -u $(id -un) -o %j").includes(`slurmray-${basename(cwd)}-`), "nothing is queued");
  });

  it("refuses a misspelled function before connecting", async (t) => {
    if (!tb) return t.skip("test bed not running: bash scripts/test-cluster.sh up");
    const cwd = tempProject({ "main.py": "def f():\n    return 1\n", "slurmray.toml": testbedToml(tb, { baseDir: `~/${baseDir}` }) });
    const run = await runCli(["run", "main.py:g", "--json"], { cwd, timeoutMs: 60_000 });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stdout, /main\.py defines no top-level \\"g\\" \(it defines: f\)/);
  });
});
