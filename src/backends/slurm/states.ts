// Slurm job states (squeue %T, sacct State) → slurmray's JobState. Slurm has about 25 states; a job
// only needs to know whether it waits, runs, or how it ended.
import type { JobState } from "../../model/job.js";

export interface MappedState {
  state: JobState;
  /** Slurm's word when it says more than the JobState (SUSPENDED, "cancelled by uid 1000", …). */
  note: string | null;
}

const WAITING = new Set(["PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD"]);
const RUNNING = new Set(["RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "RESIZING", "SUSPENDED", "STOPPED"]);
const ENDED: Record<string, JobState> = {
  COMPLETED: "COMPLETED",
  FAILED: "FAILED",
  SPECIAL_EXIT: "FAILED",
  CANCELLED: "CANCELLED",
  REVOKED: "CANCELLED",
  TIMEOUT: "TIMEOUT",
  DEADLINE: "TIMEOUT",
  OUT_OF_MEMORY: "OUT_OF_MEMORY",
  NODE_FAIL: "NODE_FAIL",
  BOOT_FAIL: "NODE_FAIL",
  PREEMPTED: "PREEMPTED",
};
/** The Slurm words of ended jobs (for the remote snippets that must tell ended from active). */
export const ENDED_SLURM_STATES: readonly string[] = Object.keys(ENDED);
/** States that say nothing beyond their JobState. */
const PLAIN = new Set(["PENDING", "RUNNING", "COMPLETING", ...Object.keys(ENDED).filter((s) => ENDED[s] === s)]);

/** Maps a Slurm state word. Returns null for a word Slurm does not use (the caller keeps the last state). */
export function mapSlurmState(raw: string): MappedState | null {
  const text = raw.trim();
  // sacct writes "CANCELLED by 1000"; squeue's short forms never reach here (we ask for %T).
  const word = text.split(/\s+/)[0]?.replace(/\+$/, "").toUpperCase() ?? "";
  const note = PLAIN.has(word) && text === word ? null : text.toLowerCase();
  if (WAITING.has(word)) return { state: "PENDING", note };
  if (RUNNING.has(word)) return { state: "RUNNING", note };
  const ended = ENDED[word];
  return ended ? { state: ended, note } : null;
}

/** sacct's ExitCode "code:signal" → the exit code (128 + signal when a signal ended it). */
export function parseExitCode(raw: string): number | null {
  const match = /^(\d+):(\d+)$/.exec(raw.trim());
  if (!match) return null;
  const [code, signal] = [Number(match[1]), Number(match[2])];
  return signal > 0 ? 128 + signal : code;
}
