// Which remote envs jobs still use (see envsync/generations.ts): the env of a job is the dir of the python its
// record names. Only this project's records can use its envs (the env family is per project). A record
// that is not final may still be active; the backend says which are, in one command, asked only when some
// record is not final. A run between its env sync and its job's record holds a claim instead (registry.ts).
import { dirname } from "node:path";
import type { JobRecord } from "../model/job.js";
import { isFinal } from "../model/job.js";
import { RemoteCommandError } from "../util/errors.js";
import type { EnvsInUse } from "../envsync/generations.js";
import { envClaimed, listJobs } from "./registry.js";
import type { TargetSession } from "./session.js";

/** The env dir of a job: `<env>/bin/python` → `<env>`. */
export function envOfJob(job: Pick<JobRecord, "python">): string {
  return dirname(dirname(job.python));
}

/** Whether `envDir` is a generation of the family `base` (`<base>` or `<base>-<n>`). */
function inFamily(envDir: string, base: string): boolean {
  return envDir === base || (envDir.startsWith(`${base}-`) && /^\d+$/.test(envDir.slice(base.length + 1)));
}

/**
 * The env dirs of the family `base` (all families when null) that pending or running jobs use on the session's
 * target, and whether another run of the project holds a claim (registry.ts, claimEnv); `ownJob` is the caller's.
 */
export async function envsInUse(session: TargetSession, base: string | null, ownJob?: string): Promise<EnvsInUse> {
  const { root } = session.config;
  const claimed = envClaimed(root, ownJob);
  const candidates = listJobs(root).filter(
    (job) => job.target === session.target.name && !isFinal(job.state) && job.schedulerId !== null && (base === null || inFamily(envOfJob(job), base)),
  );
  if (candidates.length === 0) return { dirs: [], claimed };
  const live = await liveJobIds(session, candidates);
  return { dirs: [...new Set(candidates.filter((job) => live.has(job.id)).map(envOfJob))], claimed };
}

/**
 * The slurmray ids of this project's jobs that are pending or running now, through the backend's one
 * active-jobs hook (one remote command); on this machine, `candidates` checked against the process table.
 */
async function liveJobIds(session: TargetSession, candidates: readonly JobRecord[]): Promise<Set<string>> {
  const command = session.backend.liveJobsCommand(session.config.projectName);
  if (command === null) {
    const statuses = await session.backend.poll(candidates);
    return new Set(candidates.filter((job) => !isFinal(statuses.get(job.id)?.state ?? "FAILED")).map((job) => job.id));
  }
  const { code, stdout, stderr } = await session.transport.exec(["sh", "-c", command]);
  if (code !== 0) throw new RemoteCommandError("Asking the scheduler which jobs are alive", "the backend's live-jobs command", code, stderr);
  return new Set(stdout.split("\n").map((line) => line.trim()).filter((line) => line !== ""));
}
