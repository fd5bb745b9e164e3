// A job as the scheduler lists it (`slurmray jobs --target X`): where it runs and what it used.
import type { JobState } from "./job.js";

export interface ListedJob {
  schedulerId: string;
  /** The slurmray job id this scheduler job belongs to. */
  jobId: string;
  state: JobState;
  /** The scheduler's own word for the state (RUNNING, COMPLETING, OUT_OF_MEMORY…). */
  schedulerState: string;
  elapsedSeconds: number | null;
  nodes: string[];
  gpus: number;
  /** CPU time over (elapsed × CPUs), 0–1; finished jobs with accounting only. */
  cpuEfficiency: number | null;
  /** Peak resident memory, in bytes; finished jobs with accounting only. */
  maxRssBytes: number | null;
  /** Where the scheduler shows other users' jobs too (the server kind's queue): whose job it is. */
  user?: string;
  cpus?: number;
  memGb?: number;
  gpuIds?: number[];
  /** When it started running, or was queued (ISO). */
  since?: string | null;
}

export interface ListedJobs {
  jobs: ListedJob[];
  /** Why finished jobs are missing (no accounting), or null. */
  sacctError: string | null;
}
