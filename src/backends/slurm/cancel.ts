// Cancel in one remote command: scancel, then wait (bounded) until squeue shows the job ended, so that
// when cancel returns no process of the job is left (COMPLETING still has processes being killed).
import { RemoteCommandError } from "../../util/errors.js";
import { quote } from "../../util/shell.js";
import { checkSlurmJobId } from "./ids.js";
import { ENDED_SLURM_STATES } from "./states.js";

/** POSIX sh: scancel the job and wait up to `waitSeconds` for it to leave the active states; a refusal fails at once. */
export function cancelScript(schedulerId: string, waitSeconds = 60): string {
  const id = quote(checkSlurmJobId(schedulerId));
  return [
    // scancel refuses another user's job (Access/permission denied): its message is the answer, at once.
    // An error about a job that has already ended is not a refusal.
    `sr_err=$(scancel ${id} 2>&1)`,
    `if [ "$?" -ne 0 ] || [ -n "$sr_err" ]; then`,
    `  case "$(squeue -h -j ${id} -o %T 2>/dev/null)" in ""|${ENDED_SLURM_STATES.join("|")}) exit 0 ;; esac`,
    `  printf '%s\\n' "$sr_err" >&2`,
    "  exit 1",
    "fi",
    "i=0",
    `while [ "$i" -lt ${waitSeconds * 2} ]; do`,
    `  s=$(squeue -h -j ${id} -o %T 2>/dev/null)`,
    `  case "$s" in ""|${ENDED_SLURM_STATES.join("|")}) exit 0 ;; esac`,
    "  sleep 0.5",
    "  i=$((i + 1))",
    "done",
    `echo "Slurm job ${schedulerId} is still $s after ${waitSeconds} s" >&2`,
    "exit 1",
  ].join("\n");
}

export function checkCancelResult(schedulerId: string, code: number, stderr: string): void {
  if (code !== 0) throw new RemoteCommandError(`Cancelling Slurm job ${schedulerId}`, `scancel ${schedulerId}`, code, stderr);
}
