// The Slurm side of the job watcher (src/backends/watch/): ONE squeue/sacct command for all watched jobs
// (status.ts's snippet), run by the remote watcher every few seconds, and how a job's end is read.
import { setTimeout as sleep } from "node:timers/promises";
import { isFinal, type JobRecord } from "../../model/job.js";
import type { Transport } from "../../transport/types.js";
import type { JobStatus } from "../types.js";
import type { ReconnectPolicy, RunnerStatus, WatchScheduler } from "../watch/types.js";
import { type JobWatcher, sharedWatcher } from "../watch/watcher.js";
import { parseStatusOutput, resolveStatus, StatusTracker, statusSnippet } from "./status.js";

export type { QueueUpdate } from "../watch/types.js";

/** squeue is an RPC to slurmctld: asked rarely; the runner's status.json is read every 100 ms. */
const POLL_EVERY_MS = 3000;
/**
 * How long a job stopped by a signal waits for Slurm to say why (NODE_FAIL, PREEMPTED, TIMEOUT or CANCELLED):
 * sacct has it within a second or two of the end.
 */
const WHY_STOPPED = { attempts: 20, everyMs: 500 };

export class SlurmScheduler implements WatchScheduler {
  readonly pollEveryMs = POLL_EVERY_MS;
  readonly #tracker = new StatusTracker();
  constructor(private readonly transport: Transport) {}

  pollCommand(jobs: readonly JobRecord[]): string {
    return statusSnippet(jobs.map((job) => ({ schedulerId: job.schedulerId ?? "", dir: job.remoteDir })));
  }

  async parsePoll(output: string, _exitCode: number, _stderr: string, jobs: readonly JobRecord[]): Promise<Map<string, JobStatus>> {
    return this.#tracker.statuses(jobs, parseStatusOutput(output));
  }

  /**
   * A runner that says COMPLETED or FAILED has the final word. A job the last poll saw end has Slurm's word.
   * A runner stopped by a signal (or silent) does not know why: Slurm is asked, since only its verdict
   * tells a node failure or a preemption (which max_retries submits again) from a cancel.
   */
  async finalStatus(job: JobRecord, runner: RunnerStatus | null, polled: JobStatus | null): Promise<JobStatus> {
    const byRunner = () => {
      const probe = { squeue: new Map(), positions: new Map(), sacct: new Map(), sacctError: null, runner: new Map(runner ? [[job.schedulerId ?? "", runner]] : []) };
      return resolveStatus(job, probe, Number.POSITIVE_INFINITY);
    };
    if (runner?.state === "COMPLETED" || runner?.state === "FAILED") return byRunner();
    if (polled && isFinal(polled.state)) return polled;
    for (let attempt = 0; attempt < WHY_STOPPED.attempts; attempt++) {
      if (attempt > 0) await sleep(WHY_STOPPED.everyMs);
      const asked = await this.#ask(job).catch(() => null);
      if (asked === null) break;
      if (isFinal(asked.state)) return asked;
    }
    return byRunner();
  }

  /** The job's status from one more poll, or null when Slurm cannot be reached. */
  async #ask(job: JobRecord): Promise<JobStatus | null> {
    const { stdout } = await this.transport.script(this.pollCommand([job]));
    return resolveStatus(job, parseStatusOutput(stdout), 0);
  }
}

/** The one watcher of this connection: every Slurm job this process watches there goes through it. */
export function slurmWatcher(transport: Transport, reconnect?: ReconnectPolicy): JobWatcher {
  return sharedWatcher(transport, () => new SlurmScheduler(transport), reconnect);
}
