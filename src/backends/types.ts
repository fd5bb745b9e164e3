// The Backend interface: one implementation per target kind (slurm/, server/, local/).
// Polling is batched: one call covers many jobs, so watching N jobs costs one remote command per poll.
import type { Transport } from "../transport/types.js";
import type { JobRecord, JobState, TargetKind } from "../jobs/types.js";

export interface JobStatus {
  state: JobState;
  /** PENDING reason, queue position, failure reason. */
  reason: string | null;
  exitCode: number | null;
  startedAt: string | null;
  endedAt: string | null;
  nodes: string[] | null;
}

export interface JobPaths {
  dir: string;
  spec: string;
  log: string;
  resultJson: string;
  resultPkl: string;
  error: string;
  /** Written by the runner at start and end: {state, pid, exit_code, started_at, ended_at}. */
  status: string;
}

export interface Backend {
  readonly kind: TargetKind;
  readonly transport: Transport;
  /** Starts the job whose job dir (job.json, code, env) is ready. Returns the scheduler handle. */
  submit(job: JobRecord): Promise<string>;
  /** Status of many jobs in one remote command. Jobs the scheduler no longer knows map to their last known state. */
  poll(jobs: readonly JobRecord[]): Promise<Map<string, JobStatus>>;
  /** Cancels the job and resolves once it is gone. */
  cancel(job: JobRecord): Promise<void>;
  /** POSIX sh printing the ids of this project's jobs the scheduler still holds (none: the registry is the answer). */
  liveJobsCommand?(project: string): string;
}

/** Where the runner puts its files inside a job dir (DESIGN.md, "Remote layout"). */
export function jobPaths(dir: string): JobPaths {
  return {
    dir,
    spec: `${dir}/job.json`,
    log: `${dir}/job.log`,
    resultJson: `${dir}/result.json`,
    resultPkl: `${dir}/result.pkl`,
    error: `${dir}/error.json`,
    status: `${dir}/status.json`,
  };
}
