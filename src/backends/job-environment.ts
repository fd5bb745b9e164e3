// The environment a remote job's script sets before Python starts, the same for both remote kinds.
// First the variables that decide where Python imports from are taken out of what the target's login
// environment passed down (sbatch and the server's queue hand the job the environment of the ssh session
// that submitted it): a PYTHONPATH in the cluster's ~/.bashrc, or left by a `module load`, comes before the
// env's site-packages, so a stale numpy there would silently replace the one slurmray installed. Each one
// taken out is named in the job's log. Then the job's own variables (`--env`, the API's `env`), which may set
// them again on purpose, as may a Slurm target's `modules` and `setup`, which run after these lines. The job's
// variables are set here, not only by the runner: Ray's tasks inherit their raylet's environment.
import type { JobRecord } from "../model/job.js";
import { ENV_NAME, ENV_NAME_RULE, PYTHON_IMPORT_VARIABLES } from "../model/job-env.js";
import { InputError } from "../util/errors.js";
import { quote } from "../util/shell.js";

const NOTICE = "slurmray: %s=%s from the target's login environment is not passed to the job: it imports its shipped code and its env only (to pass it on purpose, give it with --env)\\n";

/** POSIX sh lines: the inherited variables out (each named in the log), then the job's own exported. */
export function jobEnvironmentLines(job: JobRecord): string[] {
  const clear = [
    `for sr_var in ${PYTHON_IMPORT_VARIABLES.join(" ")}; do`,
    '  eval "sr_set=\\${$sr_var+x} sr_val=\\${$sr_var-}"',
    `  if [ -n "$sr_set" ]; then printf ${quote(NOTICE)} "$sr_var" "$sr_val" >&2; unset "$sr_var"; fi`,
    "done",
    "unset sr_var sr_set sr_val",
  ];
  const own = Object.entries(job.spec.env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new InputError(`environment variable ${JSON.stringify(name)}: ${ENV_NAME_RULE}`);
    return `export ${name}=${quote(value)}`;
  });
  return [...clear, 'export PYTHONUNBUFFERED=1 SLURMRAY_JOB_DIR="$job_dir"', ...own];
}

/**
 * POSIX sh, the last line before Python starts: the env's bin dir first on PATH (`$python` is the env's
 * interpreter), as an activated venv has it, so that a job's `subprocess.run(["python", …])` or a console
 * script of its packages (torchrun, accelerate) is the env's and not the target's own python3. After a Slurm
 * target's `modules` and `setup`, which may put another Python first.
 */
export const ENV_FIRST_ON_PATH = 'export PATH="${python%/*}:$PATH"';
