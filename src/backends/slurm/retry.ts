// Retries: a job that ended because of the cluster (a node failed, or it was preempted) rather than
// because of its own code is submitted again, up to the target's max_retries (default 0).
import type { JobState } from "../../model/job.js";
import type { RetryDecision } from "../types.js";

export const RETRYABLE_STATES: readonly JobState[] = ["NODE_FAIL", "PREEMPTED"];

/** Whether a job that ended in `state` after `attempt` submissions (1 = the first) is submitted again. */
export function retryDecision(state: JobState, attempt: number, maxRetries: number): RetryDecision {
  if (!RETRYABLE_STATES.includes(state)) return { retry: false, message: null };
  const what = state === "NODE_FAIL" ? "a node failed" : "it was preempted";
  if (attempt <= maxRetries) {
    return { retry: true, message: `The job ended because ${what}; submitting it again (retry ${attempt} of ${maxRetries}).` };
  }
  const hint = maxRetries === 0 ? " Set max_retries in the target's config to retry such jobs automatically." : "";
  return { retry: false, message: `The job ended because ${what}, and ${maxRetries} retr${maxRetries === 1 ? "y was" : "ies were"} used.${hint}` };
}
