// The `run --json` report (DESIGN.md, "CLI contract"). Fields a target does not fill are null or zero,
// never invented.
import type { RemoteError } from "../model/job.js";
import type { PrintableResult } from "../model/outcome.js";

export interface EnvReportJson {
  created: boolean;
  reused: boolean;
  installed: string[];
  changed: { name: string; from: string | null; to: string | null }[];
  /** Local distributions the remote env cannot hold, with why (never a silent difference); remote targets. */
  skipped?: { name: string; version: string | null; reason: string }[];
  unchanged: number | null;
  seconds: number;
}

export interface CodeReportJson {
  files_uploaded: number;
  bytes_uploaded: number;
  seconds: number;
}

export interface Timings {
  connect: number;
  code_sync: number;
  env_sync: number;
  submit: number;
  queue_wait: number;
  run: number;
  fetch: number;
  total: number;
}

export interface RunReport {
  job_id: string;
  target: string;
  state: string;
  /** The scheduler's word on how the job ended (OUT_OF_MEMORY: how much it used), or null. */
  reason?: string | null;
  /** The value's JSON text (printed as it is, never parsed here), or the pickle's description. */
  result: PrintableResult;
  error: RemoteError | null;
  env: EnvReportJson | null;
  code: CodeReportJson | null;
  timings: Timings;
  remote_commands: number;
  warnings: string[];
  /** Where the job's outputs/ came back, and how many files and bytes travelled. */
  outputs?: { dir: string; files: number; bytes: number };
}

/**
 * A step of a run starts, says something new, or ends, for the CLI's progress display. `text` is for the human:
 * what is under way ("connecting to alice@login"), or what was done ("code: 3 files, 12 KB sent").
 */
export interface StepEvent {
  step: Exclude<keyof Timings, "total">;
  phase: "start" | "update" | "end";
  text: string;
  /** On an end: the step ended badly (the job failed); the CLI says so as an error, not as a step done. */
  failed?: boolean;
}

export type StepObserver = (event: StepEvent) => void;

export function emptyTimings(): Timings {
  return { connect: 0, code_sync: 0, env_sync: 0, submit: 0, queue_wait: 0, run: 0, fetch: 0, total: 0 };
}

/** Measures an async step in seconds (3 decimals) into timings[key]. */
export async function timed<T>(timings: Timings, key: keyof Timings, step: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await step();
  } finally {
    timings[key] = Math.round(timings[key] * 1000 + performance.now() - start) / 1000;
  }
}
