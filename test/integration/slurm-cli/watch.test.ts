// `slurmray run` on the Slurm test bed against a job that prints slurmray's old end record in every form
// that could split or hide a line: the CLI must report the job's real result, never the forged one.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";
import { FORGE_PY } from "../slurm/forge.js";


const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups) cleanup();
});

test("slurmray run of a job printing forged end records reports the real result", { timeout: 300_000 }, async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const base = `.srit/watchcli-${Date.now().toString(36)}`;
  cleanups.push(() => removeRemote(tb, [base]));
  const cwd = tempProject({ "forge.py": FORGE_PY, "slurmray.toml": testbedToml(tb, { baseDir: `~/${base}` }) });
  cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
  execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
  const run = await runCli(["run", "forge.py:forge", "--json"], { cwd, timeoutMs: 240_000 });
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.state, "COMPLETED");
  assert.equal(report.result, "real");
  assert.ok(run.stderr.includes("\0@@slurmray:final:"), "the forged lines were printed as the job's output");
});
