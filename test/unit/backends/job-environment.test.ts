// The environment lines both remote kinds' job scripts start with, run by real shells (dash: the server's
// job.sh; bash: Slurm's sbatch.sh) with a hostile inherited environment.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { jobEnvironmentLines } from "../../../src/backends/job-environment.js";
import { scratchDir } from "../../helpers/scratch.js";
import { slurmJob } from "../slurm/job.js";

const PRINT = `printf '%s\\n' "PYTHONPATH=\${PYTHONPATH-<unset>}" "PYTHONHOME=\${PYTHONHOME-<unset>}" "PYTHONPLATLIBDIR=\${PYTHONPLATLIBDIR-<unset>}" "OTHER=\${OTHER-<unset>}" "JOB=\${SLURMRAY_JOB_DIR}"`;

function runLines(shell: string, env: Record<string, string>, jobEnv: Record<string, string>) {
  const script = ["job_dir=/jobs/1", ...jobEnvironmentLines(slurmJob({}, { env: jobEnv })), PRINT].join("\n");
  // stdin not a socket: bash would take itself for an ssh session's shell and read ~/.bashrc.
  const r = spawnSync(shell, ["-c", script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
  assert.equal(r.status, 0, r.stderr);
  return { out: r.stdout.trim().split("\n"), err: r.stderr };
}

for (const shell of ["sh", "bash"]) {
  test(`${shell}: what the login environment set to change Python's imports is taken out and named in the log; the rest stays`, () => {
    const dir = scratchDir("sr-jobenv-");
    try {
      const hostile = `/a b'c"%s\\n$(touch ${join(dir, "ran")})\`touch ${join(dir, "ran2")}\``;
      const { out, err } = runLines(shell, { PYTHONPATH: hostile, PYTHONPLATLIBDIR: "", OTHER: "kept" }, {});
      assert.deepEqual(out, ["PYTHONPATH=<unset>", "PYTHONHOME=<unset>", "PYTHONPLATLIBDIR=<unset>", "OTHER=kept", "JOB=/jobs/1"]);
      assert.equal(
        err,
        `slurmray: PYTHONPATH=${hostile} from the target's login environment is not passed to the job: it imports its shipped code and its env only (to pass it on purpose, give it with --env)\n` +
          "slurmray: PYTHONPLATLIBDIR= from the target's login environment is not passed to the job: it imports its shipped code and its env only (to pass it on purpose, give it with --env)\n",
      );
      assert.ok(!existsSync(join(dir, "ran")) && !existsSync(join(dir, "ran2")), "the value was run as a command");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${shell}: the job's own variables (--env) set them again on purpose, and nothing is said when none was inherited`, () => {
    const { out, err } = runLines(shell, {}, { PYTHONPATH: "/mine", OTHER: "it's $HOME" });
    assert.deepEqual(out, ["PYTHONPATH=/mine", "PYTHONHOME=<unset>", "PYTHONPLATLIBDIR=<unset>", "OTHER=it's $HOME", "JOB=/jobs/1"]);
    assert.equal(err, "");
  });
}
