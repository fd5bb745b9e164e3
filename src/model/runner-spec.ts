// job.json, the runner's input (DESIGN.md, "Job protocol"). One function builds it for every backend.
import type { JobRecord } from "./job.js";

export interface RunnerSpec {
  id: string;
  entry: string;
  args: Record<string, unknown>;
  script_args: string[];
  env: Record<string, string>;
  code_dir: string;
  ray: null | { address: string };
  pool: "ray" | null;
  /** The outputs folder's name in the job's working dir (absent: "outputs"). */
  outputs?: string;
}

export function runnerSpec(job: JobRecord, ray: RunnerSpec["ray"] = null): RunnerSpec {
  return {
    id: job.id,
    entry: job.spec.entry,
    args: job.spec.args,
    script_args: job.spec.scriptArgs,
    env: job.spec.env,
    code_dir: job.codeDir,
    ray,
    pool: job.spec.pool ?? null,
    ...(job.spec.outputs ? { outputs: job.spec.outputs } : {}),
  };
}
