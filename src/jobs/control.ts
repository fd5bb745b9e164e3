// Operations on existing jobs from their local records: refresh status (batched per target), cancel, read logs
// and results. These work from another shell or after a restart, because the record is on disk.
import { jobPaths } from "../backends/types.js";
import type { LoadedConfig } from "../config/load.js";
import { type Outcome, readOutcome } from "../model/outcome.js";
import { absorbElement, activeElements } from "./array-record.js";
import { statusFields } from "./follow.js";
import { cancelArray } from "./map.js";
import { JobFilesGoneError } from "../util/errors.js";
import { recordOnDisk, recordStatus } from "./registry.js";
import { openTarget } from "./session.js";
import { isFinal, type JobRecord } from "../model/job.js";
import type { ListedJob } from "../model/listed-job.js";

/** Brings the records of active jobs up to date: one backend poll per target. */
export async function refreshJobs(config: LoadedConfig, jobs: JobRecord[]): Promise<JobRecord[]> {
  const active = jobs.filter((job) => !isFinal(job.state));
  const byTarget = new Map<string, JobRecord[]>();
  for (const job of active) byTarget.set(job.target, [...(byTarget.get(job.target) ?? []), job]);
  for (const [target, group] of byTarget) {
    const { backend } = await openTarget(config, target);
    // An array is asked about through its active elements, all in the same batched poll.
    const polled = group.flatMap((job) => (job.array ? activeElements(job) : [job]));
    const statuses = await backend.poll(polled);
    for (const job of polled) {
      const status = statuses.get(job.id);
      if (!status || status.state === job.state) continue;
      // Written into the record as it is on disk now, not this copy read before the poll; when another command
      // recorded an end first, this copy takes that one.
      const current = recordStatus(config.root, job.id, statusFields(status)) ?? recordOnDisk(config.root, job.id);
      if (!current) continue;
      Object.assign(job, current);
      const array = job.element === undefined ? null : group.find((a) => job.id.startsWith(`${a.id}_`));
      if (array) absorbElement(array, job);
    }
  }
  return jobs;
}

export async function cancelJob(config: LoadedConfig, job: JobRecord): Promise<JobRecord> {
  if (isFinal(job.state)) return job;
  const session = await openTarget(config, job.target);
  if (job.array) {
    await cancelArray(session, job, "cancelled by the user");
    return job;
  }
  await session.backend.cancel(job);
  // An end recorded meanwhile (the job finished as the cancel went out, a watcher saw it) is the one kept.
  const current = recordStatus(config.root, job.id, { state: "CANCELLED", endedAt: new Date().toISOString(), reason: "cancelled by the user" }) ?? recordOnDisk(config.root, job.id);
  return current ? Object.assign(job, current) : job;
}

/** The log from a byte offset. An ended job's whole log read as empty while its folder is gone is an error, not an empty log. */
export async function readJobLog(config: LoadedConfig, job: JobRecord, fromOffset = 0): Promise<{ text: string; offset: number }> {
  const { files } = await openTarget(config, job.target);
  const paths = jobPaths(job.remoteDir);
  const log = await files.readFrom(paths.log, fromOffset);
  if (log.text === "" && fromOffset === 0 && isFinal(job.state) && (await files.read(paths.spec)) === null) throw new JobFilesGoneError(`job ${job.id}: its log is not in ${job.remoteDir}`);
  return log;
}

export async function readJobOutcome(config: LoadedConfig, job: JobRecord): Promise<Outcome> {
  const { files } = await openTarget(config, job.target);
  return readOutcome(job.remoteDir, (path) => files.readBytes(path)); // bytes: a large result is never a string
}

/**
 * What the target's scheduler knows of this project's jobs (nodes, GPUs, and once finished CPU efficiency and
 * peak memory where it keeps accounting), keyed by slurmray job id. One remote command.
 */
export async function clusterDetails(config: LoadedConfig, target: string, records: readonly JobRecord[]): Promise<{ details: Map<string, ListedJob>; queue: ListedJob[] | null }> {
  const { backend } = await openTarget(config, target);
  const { jobs } = await backend.list(config.projectName, records);
  // Where the scheduler shows every user's jobs (the server kind's queue), the whole queue is shown too.
  const queue = jobs.some((job) => job.user !== undefined) ? jobs : null;
  return { details: new Map(jobs.map((job) => [job.jobId, job])), queue };
}
