// The job record: one run of an entry on a target. Stored as .slurmray/jobs/<id>.json locally
// (written atomically), mirrored by job.json in the remote job dir.
import type { ArgsJson } from "./job-args.js";

export const TARGET_KINDS = ["slurm", "server", "local"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const FINAL_STATES = [
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "OUT_OF_MEMORY",
  "NODE_FAIL",
  "PREEMPTED",
] as const;
export const ACTIVE_STATES = ["SUBMITTING", "PENDING", "RUNNING"] as const;
export type JobState = (typeof FINAL_STATES)[number] | (typeof ACTIVE_STATES)[number];

export function isFinal(state: JobState): boolean {
  return (FINAL_STATES as readonly string[]).includes(state);
}

export interface Resources {
  nodes: number;
  cpus: number;
  /** GB */
  mem: number;
  gpus: number;
  /** minutes */
  time: number;
  partition: string | null;
}

export interface JobSpec {
  /** As given: path/to/file.py:fn, pkg.mod:fn, or path/to/script.py */
  entry: string;
  /** Keyword arguments for the function: the JSON text of an object, as given (model/job-args.ts). */
  args: ArgsJson;
  /** argv for script mode (after --). */
  scriptArgs: string[];
  /** Extra environment variables for the job. */
  env: Record<string, string>;
  ray: boolean;
  /** "ray": multiprocessing.Pool inside the job is Ray's, spreading over the job's nodes. */
  pool?: "ray" | null;
  resources: Resources;
  /** The job's outputs folder in its working dir (config `outputs`); absent: "outputs". */
  outputs?: string;
}

export interface JobRecord {
  id: string;
  target: string;
  kind: TargetKind;
  project: string;
  spec: JobSpec;
  state: JobState;
  /** Scheduler handle: Slurm job id, or the process group id for local jobs. */
  schedulerId: string | null;
  /** The job dir on the target (absolute). */
  remoteDir: string;
  /** The code dir the job runs from (absolute, on the target). */
  codeDir: string;
  /** The python interpreter the job runs with (absolute, on the target). */
  python: string;
  /**
   * On a remote target, the snapshot hash of the env the job was submitted with (its stamp's): every
   * submission, a retry's too, first checks that the env still holds it (backends/code-link.ts).
   */
  envHash?: string;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** Free-form reason from the scheduler (PENDING reason, failure reason). */
  reason: string | null;
  exitCode: number | null;
  /** A job array (`slurmray map`): one element per argument set, each in `<remoteDir>/<index>/`. */
  array?: ArrayInfo;
  /** Set on the record of one element of an array (derived from its array's record, never stored). */
  element?: number;
}

/** The env dir of a job on its target: `<env>/bin/python` → `<env>`. */
export function envOfJob(job: Pick<JobRecord, "python">): string {
  return job.python.slice(0, job.python.lastIndexOf("/", job.python.lastIndexOf("/") - 1));
}

/** One element of a job array, as its array's record keeps it. */
export interface ArrayElement {
  args: ArgsJson;
  state: JobState;
  /** The element's scheduler handle (Slurm: "<array id>_<index>"); null until submitted. */
  schedulerId: string | null;
  startedAt: string | null;
  endedAt: string | null;
  reason: string | null;
  exitCode: number | null;
}

export interface ArrayInfo {
  /** At most this many elements run at once. */
  maxParallel: number;
  /** In input order: element N is `<job id>_N`. */
  elements: ArrayElement[];
}

/** What the runner writes into error.json. */
export interface RemoteError {
  type: string;
  message: string;
  traceback: string;
}
