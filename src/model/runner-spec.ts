// job.json, the runner's input (DESIGN.md, "Job protocol"). One function builds it for every backend.
import { withArgsText } from "./job-args.js";
import type { JobRecord } from "./job.js";

/** job.json's fields, but for `args`: the arguments' own JSON text goes in as it is (model/job-args.ts). */
interface RunnerFields {
  id: string;
  entry: string;
  script_args: string[];
  env: Record<string, string>;
  code_dir: string;
  /** The interpreter the job was submitted with: the runner ignores it; an env sync from another clone of a
   * deliberately shared project reads it to know which env a live job uses (jobs/env-use.ts). */
  python: string;
  ray: null | { address: string };
  pool: "ray" | null;
  /** The outputs folder's name in the job's working dir (absent: "outputs"). */
  outputs?: string;
}

/** The text of the job's job.json, one line. */
export function runnerSpecJson(job: JobRecord, ray: RunnerFields["ray"] = null): string {
  const fields: RunnerFields = {
    id: job.id,
    entry: job.spec.entry,
    script_args: job.spec.scriptArgs,
    env: job.spec.env,
    code_dir: job.codeDir,
    python: job.python,
    ray,
    pool: job.spec.pool ?? null,
    ...(job.spec.outputs ? { outputs: job.spec.outputs } : {}),
  };
  return withArgsText(job.spec.args, fields);
}
