// Which remote envs jobs still use (see envsync/generations.ts): the env of a job is the dir of the python its
// record names. Only this project's records can use its envs (the env family is per project). A record
// that is not final may still be active; the backend says which are, in one command, asked only when some
// record is not final.
import { dirname } from "node:path";
import type { JobRecord } from "../model/job.js";
import { isFinal } from "../model/job.js";
import { listJobs } from "./registry.js";
import type { TargetSession } from "./session.js";

/** The env dir of a job: `<env>/bin/python` → `<env>`. */
export function envOfJob(job: Pick<JobRecord, "python">): string {
  return dirname(dirname(job.python));
}

/** Whether `envDir` is a generation of the family `base` (`<base>` or `<base>-<n>`). */
function inFamily(envDir: string, base: string): boolean {
  return envDir === base || (envDir.startsWith(`${base}-`) && /^\d+$/.test(envDir.slice(base.length + 1)));
}

/** The env dirs of the family `base` (all families when null) that pending or running jobs use on the session's target. */
export async function envsInUse(session: TargetSession, base: string | null): Promise<string[]> {
  const candidates = listJobs(session.config.root).filter(
    (job) => job.target === session.target.name && !isFinal(job.state) && job.schedulerId !== null && (base === null || inFamily(envOfJob(job), base)),
  );
  if (candidates.length === 0) return [];
  const active = await session.backend.activeJobs(candidates);
  return [...new Set(candidates.filter((job) => active.has(job.schedulerId!)).map(envOfJob))];
}
