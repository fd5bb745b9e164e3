// The backend seam: everything that differs between target kinds (slurm/, server/, local/) sits behind this
// one interface, in the manner of submitit's executors. jobs/ sequences the lifecycle over it and never names
// a kind; adding a kind is its own folder plus one line in ./registry.ts.
// Polling is batched: one call covers many jobs, so watching N jobs costs one remote command per poll.
import type { TargetConfig } from "../config/schema.js";
import type { JobRecord, JobSpec, JobState, TargetKind } from "../model/job.js";
import type { ListedJobs } from "../model/listed-job.js";
import type { Outcome } from "../model/outcome.js";
import type { Transport } from "../transport/types.js";
import type { JobFiles } from "./job-files.js";

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

/** While a job waits: the scheduler's state, its reason and the job's place in the queue. */
export interface QueueUpdate {
  state: string;
  reason: string;
  position: number | null;
}

export interface WatchRequest {
  onLog?: (text: string) => void;
  onQueue?: (update: QueueUpdate) => void;
  onReconnect?: (attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  /** Byte offset in job.log to start from (0, or where an earlier watch stopped). */
  fromOffset?: number;
  /**
   * Only the job's state: queue updates and the end, but no log bytes and no result or error file (the outcome
   * comes back empty). For the live jobs view, which follows many jobs and shows none of their output.
   */
  stateOnly?: boolean;
  /** With stateOnly: the result and error files still come back at the end (map's elements: no read after). */
  outcome?: boolean;
}

export interface WatchResult {
  status: JobStatus;
  outcome: Outcome;
  /** Files the job left in its outputs folder, as its runner counted them; null when unknown (then fetch). */
  outputs?: number | null;
  /** Where the log was read up to (a retried job appends to the same log). */
  logOffset: number;
}

export interface RetryDecision {
  retry: boolean;
  /** For the user: why it is (or is not) submitted again. null when the state is not retryable. */
  message: string | null;
}

/**
 * What the scheduler can ever give (partitions, their nodes and limits), asked in the run's batched probe and
 * cached briefly, so a job that would pend forever is refused at once.
 */
export interface LimitsCheck {
  /** POSIX sh printing the marked section `section`. */
  snippet: string;
  section: string;
  /** Throws InputError (exit 2) naming the limit, from the section's lines. */
  check(spec: JobSpec, lines: readonly string[]): void;
}

/** What a backend is made from: the target, its transport, and where the runtime files live on it. */
export interface BackendContext {
  targetName: string;
  target: TargetConfig;
  transport: Transport;
  /** Absolute dir on the target holding runner.py and friends; null on the local target. */
  runtimeDir: string | null;
}

export interface Backend {
  readonly kind: TargetKind;
  readonly transport: Transport;
  /** Reads job files (log, result, error) where the job dirs are. */
  readonly files: JobFiles;
  /** The scheduler's limits to check jobs against; null when the kind's limits are static (checked by `check`). */
  readonly limits: LimitsCheck | null;
  /** Starts the job whose job dir (job.json, code, env) is ready. Returns the scheduler handle. */
  submit(job: JobRecord): Promise<string>;
  /** Status of many jobs in one remote command. Jobs the scheduler no longer knows map to their last known state. */
  poll(jobs: readonly JobRecord[]): Promise<Map<string, JobStatus>>;
  /** Follows a job to its end: its log as it arrives, queue updates while it waits, then its status and outcome. */
  watch(job: JobRecord, request: WatchRequest): Promise<WatchResult>;
  /** Cancels the job and resolves once it is gone. */
  cancel(job: JobRecord): Promise<void>;
  /** The scheduler's view of this project's jobs (nodes, GPUs, efficiency); `records` are the local ones. */
  list(project: string, records: readonly JobRecord[]): Promise<ListedJobs>;
  /**
   * The one active-jobs hook: POSIX sh printing, one per line, the slurmray job ids of this project's jobs the
   * scheduler still holds (pending or running), failing when the scheduler does not answer. Retention and env
   * removal batch it into their own remote command and keep whatever those jobs use. null: the target is this
   * machine, and the registry's records are the answer.
   */
  liveJobsCommand(project: string): string | null;
  /** Whether a job that ended in `state` after `attempt` submissions (1 = the first) goes back in. */
  retry(state: JobState, attempt: number): RetryDecision;
  /**
   * Job arrays (`slurmray map`); absent on a kind that cannot run them. Starts `elements` (records from
   * jobs/array-record.ts, `element` set, each with its own dir <array.remoteDir>/<index>/) of `array`, at most
   * `maxParallel` at once, in ONE remote command that also writes every element's job.json. Returns the
   * array's handle and each element's. poll() and cancel() take element records like any job's; cancel() of
   * the array's own record cancels every element.
   */
  submitArray?(array: JobRecord, elements: readonly JobRecord[], maxParallel: number): Promise<ArraySubmission>;
}

export interface ArraySubmission {
  schedulerId: string;
  /** Element index → its scheduler handle. */
  elements: Map<number, string>;
}

/** Where the runner puts its files inside a job dir (docs/architecture.md, "Job protocol"). */
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

/** No retries: for kinds whose jobs cannot be ended by the infrastructure. */
export function neverRetry(): RetryDecision {
  return { retry: false, message: null };
}
