// What the kind-agnostic job watcher needs from a backend, and what a watch gives back.
import type { JobRecord } from "../../model/job.js";
import type { JobStatus } from "../types.js";

export type { QueueUpdate, WatchRequest, WatchResult } from "../types.js";

/** What the runner writes to status.json (src/remote/runner.py). */
export interface RunnerStatus {
  state?: string;
  exit_code?: number;
  started_at?: string;
  ended_at?: string;
  /** Files in the job's outputs folder at its end. */
  outputs?: number;
}

/**
 * The backend's side of a watch. The watcher runs ONE batched status command for all watched jobs at a slow
 * interval and hands its output back here; the runner's status file, read every 100 ms, tells the end sooner.
 */
export interface WatchScheduler {
  /** How often the status command runs (ms). */
  readonly pollEveryMs: number;
  /** A POSIX sh command printing the status of all these jobs. */
  pollCommand(jobs: readonly JobRecord[]): string;
  /** Each job's status (by job id) from that command's output. Throws when the output is unusable. */
  parsePoll(output: string, exitCode: number, stderr: string, jobs: readonly JobRecord[]): Promise<Map<string, JobStatus>>;
  /** The final status of an ended job, from its runner's status.json and the last poll that saw it. */
  finalStatus(job: JobRecord, runner: RunnerStatus | null, polled: JobStatus | null): Promise<JobStatus>;
}

export interface ReconnectPolicy {
  /** Attempts after a lost connection (default 8: about two minutes with the default delays). */
  attempts?: number;
  /** First delay; doubles up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}
