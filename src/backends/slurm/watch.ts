// The Slurm side of the job watcher (src/backends/watch/): ONE squeue/sacct command for all watched jobs
// (status.ts's snippet), run by the remote watcher every few seconds, and how a job's end is read.
import type { JobRecord } from "../../model/job.js";
import type { Transport } from "../../transport/types.js";
import type { JobStatus } from "../types.js";
import type { ReconnectPolicy, RunnerStatus, WatchScheduler } from "../watch/types.js";
import { type JobWatcher, sharedWatcher } from "../watch/watcher.js";
import { parseStatusOutput, resolveStatus, StatusTracker, statusSnippet } from "./status.js";

export type { QueueUpdate } from "../watch/types.js";

/** squeue is an RPC to slurmctld: asked rarely; the runner's status.json is read every 100 ms. */
const POLL_EVERY_MS = 3000;

export class SlurmScheduler implements WatchScheduler {
  readonly pollEveryMs = POLL_EVERY_MS;
  readonly #tracker = new StatusTracker();

  pollCommand(jobs: readonly JobRecord[]): string {
    return statusSnippet(jobs.map((job) => ({ schedulerId: job.schedulerId ?? "", dir: job.remoteDir })));
  }

  async parsePoll(output: string, _exitCode: number, _stderr: string, jobs: readonly JobRecord[]): Promise<Map<string, JobStatus>> {
    return this.#tracker.statuses(jobs, parseStatusOutput(output));
  }

  /** A runner that says COMPLETED or FAILED has the final word; otherwise the poll that ended the job does. */
  async finalStatus(job: JobRecord, runner: RunnerStatus | null, polled: JobStatus | null): Promise<JobStatus> {
    if (polled && (!runner?.state || !["COMPLETED", "FAILED"].includes(runner.state))) return polled;
    const probe = { squeue: new Map(), positions: new Map(), sacct: new Map(), sacctError: null, runner: new Map(runner ? [[job.schedulerId ?? "", runner]] : []) };
    return resolveStatus(job, probe, Number.POSITIVE_INFINITY);
  }
}

/** The one watcher of this connection: every Slurm job this process watches there goes through it. */
export function slurmWatcher(transport: Transport, reconnect?: ReconnectPolicy): JobWatcher {
  return sharedWatcher(transport, () => new SlurmScheduler(), reconnect);
}
