// Renders a job's sbatch.sh (pure). The #SBATCH header carries only validated values (sbatch parses
// those lines itself, without a shell); every value in the script body is shell-quoted.
// With Ray on, the script starts one Ray node per allocated node through ray_cluster.py (shipped in the
// runtime dir next to runner.py), waits until all are alive, runs the runner, then stops only its own
// Ray processes. The runner's exit code becomes the job's.
import type { JobRecord, Resources } from "../../model/job.js";
import { InputError } from "../../util/errors.js";
import { quote } from "../../util/shell.js";
import { ENV_FIRST_ON_PATH, jobEnvironmentLines } from "../job-environment.js";
import { jobPaths } from "../types.js";
import { type SlurmParams, validateSlurmParams } from "./params.js";

export interface SlurmTargetOptions {
  partition?: string;
  account?: string;
  qos?: string;
  constraint?: string;
  /** `module load` each, in order, before anything else runs. */
  modules?: string[];
  /** Extra #SBATCH options, e.g. "--exclusive" or "--mail-type=END". */
  extraSbatch?: string[];
  /** Shell lines run before the job (after modules), as written. */
  setup?: string[];
  /** The target's resource defaults, shown when a parameter is refused. */
  defaults?: Partial<Resources>;
}

export interface RenderInput {
  job: JobRecord;
  target: SlurmTargetOptions;
  /** Absolute dir on the target holding runner.py and ray_cluster.py. */
  runtimeDir: string;
  /** Absolute path of the env's python on the target. */
  python: string;
}

/** Paths that appear in #SBATCH lines: no whitespace, quotes or Slurm's %-patterns. */
const HEADER_PATH = /^\/[A-Za-z0-9_@+=:,./-]*$/;
const JOB_NAME_PART = /^[A-Za-z0-9._-]+$/;

function requirePattern(what: string, value: string, pattern: RegExp, fix: string): string {
  if (!pattern.test(value)) throw new InputError(`${what} ${JSON.stringify(value)} cannot be used in a Slurm job: ${fix}`);
  return value;
}

function extraSbatchLine(option: string): string {
  const line = option.replace(/^#SBATCH\s+/, "").trim();
  if (!line.startsWith("-") || /[\r\n]/.test(line)) {
    throw new InputError(`sbatch option ${JSON.stringify(option)}: each entry must be one option such as "--exclusive" or "--mail-type=END"`);
  }
  return `#SBATCH ${line}`;
}

/** GB → sbatch's --mem (per node): whole GB as "4G", fractions as MB. */
function memOption(gb: number): string {
  return Number.isInteger(gb) ? `${gb}G` : `${Math.ceil(gb * 1024)}M`;
}

/** The Slurm parameters of a job: its resources over the target's options, validated. */
export function slurmParamsOf(job: JobRecord, target: SlurmTargetOptions): SlurmParams {
  const { nodes, cpus, mem, gpus, time, partition } = job.spec.resources;
  return validateSlurmParams(
    {
      nodes,
      cpus,
      mem,
      gpus,
      time,
      partition: partition ?? target.partition ?? null,
      account: target.account ?? null,
      qos: target.qos ?? null,
      constraint: target.constraint ?? null,
    },
    target.defaults,
  );
}

export function jobName(job: JobRecord): string {
  const why = "use letters, digits, '.', '_' and '-' only";
  return `slurmray-${requirePattern("project", job.project, JOB_NAME_PART, why)}-${requirePattern("job id", job.id, JOB_NAME_PART, why)}`;
}

function header(job: JobRecord, params: SlurmParams, target: SlurmTargetOptions): string[] {
  const dir = requirePattern("job dir", job.remoteDir, HEADER_PATH, "choose a base_dir without spaces, quotes or '%'");
  // An array element's log is in its own dir, <array dir>/<index>/ (sbatch expands %a to the index).
  const lines = [
    `--job-name=${jobName(job)}`,
    `--output=${job.array ? `${dir}/%a/job.log` : jobPaths(dir).log}`,
    "--open-mode=append",
    `--chdir=${dir}`,
    `--nodes=${params.nodes}`,
    "--ntasks-per-node=1",
    `--cpus-per-task=${params.cpus}`,
    `--mem=${memOption(params.mem)}`,
    `--time=${params.time}`,
  ];
  if (params.gpus > 0) lines.push(`--gres=gpu:${params.gpus}`);
  for (const key of ["partition", "account", "qos", "constraint"] as const) {
    if (params[key] !== null) lines.push(`--${key}=${params[key]}`);
  }
  return [...lines.map((l) => `#SBATCH ${l}`), ...(target.extraSbatch ?? []).map(extraSbatchLine)];
}

function modulesAndSetup(target: SlurmTargetOptions): string[] {
  const modules = target.modules ?? [];
  const lines: string[] = [];
  if (modules.length > 0) {
    // `module` is a shell function that batch shells do not always inherit.
    lines.push("command -v module >/dev/null 2>&1 || . /etc/profile >/dev/null 2>&1");
    for (const name of modules) lines.push(`module load ${quote(name)} || exit 1`);
  }
  for (const line of target.setup ?? []) {
    if (/[\r\n]/.test(line)) throw new InputError(`setup line ${JSON.stringify(line)}: give each command as its own entry`);
    lines.push(line);
  }
  return lines;
}

const RUN_PLAIN = ['exec "$python" -u "$runtime_dir/runner.py" "$job_dir"'];

// Ray: head here (the batch step runs on the first node), a worker on every other node through one
// srun step each. Every Ray node runs until its stdin closes: a FIFO held open here on fd 3 and closed
// by stop_ray, so each node stops its own Ray in order (signalling the srun steps instead would reach
// every Ray process at once and let Slurm's KillWait SIGKILL them midway).
const RUN_WITH_RAY = `export RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S=0
ray_cluster="$runtime_dir/ray_cluster.py"
# The job's Ray is private: a per-job token every node and the driver use (Ray 2.52+; older Ray is warned about).
if "$python" "$ray_cluster" token "$job_dir"; then
  export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$job_dir/ray/token"
fi
ray_stop=$(mktemp -d /tmp/sr-stop.XXXXXX) || exit 1
mkfifo "$ray_stop/fifo" && exec 3<>"$ray_stop/fifo" || exit 1
stop_ray() {
  trap - EXIT
  exec 3>&-
  wait
  rm -rf "$ray_stop"
}
trap stop_ray EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
mapfile -t nodes < <(scontrol show hostnames "$SLURM_JOB_NODELIST")
"$python" "$ray_cluster" node "$job_dir" 0 <"$ray_stop/fifo" 3>&- &
head_address=$("$python" "$ray_cluster" head "$job_dir") || exit 1
for ((i = 1; i < \${#nodes[@]}; i++)); do
  srun --nodes=1 --ntasks=1 -w "\${nodes[i]}" --overlap "$python" "$ray_cluster" node "$job_dir" "$i" "$head_address" <"$ray_stop/fifo" 3>&- &
done
"$python" "$ray_cluster" ready "$job_dir" "\${#nodes[@]}" || exit 1
"$python" -u "$runtime_dir/runner.py" "$job_dir" 3>&- &
wait $!
status=$?
stop_ray
exit "$status"`.split("\n");

/** The sbatch script of a job. Throws InputError for a parameter that cannot be used. */
export function renderSbatch({ job, target, runtimeDir, python }: RenderInput): string {
  const params = slurmParamsOf(job, target);
  const lines = [
    "#!/bin/bash",
    ...header(job, params, target),
    `# Written by slurmray: runs job ${job.id} (job.json in this dir) with the slurmray runner.`,
    "set -u",
    job.array ? `job_dir=${quote(job.remoteDir)}/"$SLURM_ARRAY_TASK_ID"` : `job_dir=${quote(job.remoteDir)}`,
    `runtime_dir=${quote(runtimeDir)}`,
    `python=${quote(python)}`,
    ...jobEnvironmentLines(job),
    ...modulesAndSetup(target),
    ENV_FIRST_ON_PATH,
    ...(job.spec.ray ? [`export SLURMRAY_RAY_GPUS=${params.gpus}`, ...RUN_WITH_RAY] : RUN_PLAIN),
  ];
  return `${lines.join("\n")}\n`;
}
