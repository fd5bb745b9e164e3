// The `run --json` report (DESIGN.md, "CLI contract"). Fields a target does not fill are null or zero,
// never invented.
import type { RemoteError } from "./types.js";

export interface EnvReportJson {
  created: boolean;
  reused: boolean;
  installed: string[];
  changed: { name: string; from: string | null; to: string | null }[];
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
  result: unknown;
  error: RemoteError | null;
  env: EnvReportJson | null;
  code: CodeReportJson | null;
  timings: Timings;
  remote_commands: number;
  warnings: string[];
  /** Where the job's outputs/ came back, and how many files and bytes travelled. */
  outputs?: { dir: string; files: number; bytes: number };
}

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
