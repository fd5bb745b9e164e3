// Following one job's state through its connection's one watcher (state only), and a polled status as record
// fields: shared by the live jobs view (live.ts) and map's array watch (map.ts).
import type { JobStatus } from "../backends/types.js";
import { isFinal, type JobRecord, type JobState } from "../model/job.js";
import type { Outcome } from "../model/outcome.js";
import type { TargetSession } from "./session.js";

/** What a state-only watch tells of a job. */
export type StatusFields = Pick<JobRecord, "state" | "exitCode" | "endedAt" | "reason" | "startedAt">;

/**
 * Follows one job (or array element) on a remote target through its connection's one watcher, state only.
 * `onQueue` gets each change the batched scheduler poll sees (PENDING with why; RUNNING with startedAt: when it
 * was seen running, up to one poll late); the end's fields are returned, with the runner's own start time, and
 * with `outcome` the job's result and error from the same watch (map's elements; else null), and how many files
 * the runner counted in its outputs folder (null when it did not say).
 */
export async function followState(
  session: TargetSession,
  record: JobRecord,
  signal: AbortSignal,
  onQueue: (fields: Partial<StatusFields>) => void,
  outcome = false,
): Promise<{ fields: Partial<StatusFields>; outcome: Outcome | null; outputs: number | null }> {
  const watched = await session.watch(record, {
    stateOnly: true,
    outcome,
    signal,
    onQueue: ({ state, reason }) => {
      const started = state === "RUNNING" ? { startedAt: new Date().toISOString() } : {};
      onQueue({ state: state as JobState, reason: reason || null, ...started });
    },
  });
  return { fields: statusFields(watched.status), outcome: outcome ? watched.outcome : null, outputs: watched.outputs ?? null };
}

/** A polled or final status as record fields: an end gets a time (now when the scheduler gave none). */
export function statusFields(status: JobStatus): Partial<StatusFields> {
  const { state, exitCode, reason } = status;
  const started = status.startedAt ? { startedAt: status.startedAt } : {};
  return { state, exitCode, reason, endedAt: isFinal(state) ? (status.endedAt ?? new Date().toISOString()) : null, ...started };
}
