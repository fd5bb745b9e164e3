// job.sh for the server kind (pure): what queue.py starts once the job's grant is free, with the job (or
// array element) dir as its argument. Without Ray it is the
// runner; with Ray, one Ray node sized to the grant (the queue sets SLURMRAY_CPUS, SLURMRAY_GPUS and
// SLURMRAY_MEM_GB, and CUDA_VISIBLE_DEVICES), private to the job by its token, then the runner.
import type { JobRecord } from "../../model/job.js";
import { quote } from "../../util/shell.js";
import { ENV_FIRST_ON_PATH, jobEnvironmentLines } from "../job-environment.js";

const RUN_PLAIN = ['exec "$python" -u "$runtime_dir/runner.py" "$job_dir"'];

// The Ray node runs until its stdin (a FIFO held here on fd 3) closes, so it stops its own processes in order.
const RUN_WITH_RAY = `export RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S=0
ray_cluster="$runtime_dir/ray_cluster.py"
if "$python" "$ray_cluster" token "$job_dir"; then
  export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$job_dir/ray/token"
fi
ray_stop=$(mktemp -d /tmp/sr-stop.XXXXXX) || exit 1
mkfifo "$ray_stop/fifo" && exec 3<>"$ray_stop/fifo" || exit 1
"$python" "$ray_cluster" node "$job_dir" 0 <"$ray_stop/fifo" 3>&- &
ray_node=$!
stop_ray() {
  exec 3>&-
  wait "$ray_node"
  rm -rf "$ray_stop"
}
trap 'stop_ray; exit 143' TERM
if "$python" "$ray_cluster" head "$job_dir" >/dev/null && "$python" "$ray_cluster" ready "$job_dir" 1; then
  "$python" -u "$runtime_dir/runner.py" "$job_dir" 3>&-
  status=$?
else
  status=1
fi
stop_ray
exit "$status"`.split("\n");

export function renderServerScript(job: JobRecord, runtimeDir: string): string {
  const lines = [
    "#!/bin/sh",
    `# Written by slurmray: runs job ${job.id} (job.json in this dir) under its grant from the server's queue.`,
    "set -u",
    // The job dir comes as the argument: one script serves every element of an array.
    'job_dir=$1',
    `runtime_dir=${quote(runtimeDir)}`,
    `python=${quote(job.python)}`,
    ...jobEnvironmentLines(job),
    ENV_FIRST_ON_PATH,
    ...(job.spec.ray ? RUN_WITH_RAY : RUN_PLAIN),
  ];
  return `${lines.join("\n")}\n`;
}
