// Live job states for `slurmray jobs` (the live view and --watch). On a remote target every shown job that is
// pending or running (an array: each active element) is followed through its connection's one watcher
// (backends/watch), state only: the watcher's batched scheduler poll tells a start, the runner's status.json an
// end within ~100 ms, and no log or result bytes travel. So following N jobs there costs that one long-running
// command. On this machine's target the backend's own poll is the cheapest: process groups and status files,
// read in this process every 250 ms, with no command at all.

import type { LoadedConfig } from "../config/load.js";
import { isFinal, type JobRecord } from "../model/job.js";
import { activeElements } from "./array-record.js";
import { refreshJobs } from "./control.js";
import { followState, type StatusFields } from "./follow.js";
import { recordStatus } from "./registry.js";
import { openTarget } from "./session.js";

/** After a watch failed, the job is followed again only this much later (the view shows the error meanwhile). */
const RETRY_AFTER_MS = 15_000;
/** How often local jobs are checked (signal 0 to a process group and a status file read per job). */
const LOCAL_CHECK_MS = 250;

export interface LiveObserver {
  /** A followed job's state changed (it started or ended), and its record was saved. */
  onChange(job: JobRecord): void;
  /** A watch failed (the connection is gone for good, the target refused the watcher). */
  onError(error: unknown): void;
}

export class LiveJobs {
  /** The watches going on, by job (or element) id. */
  readonly #watches = new Map<string, AbortController>();
  /** Jobs not to follow for now: something else watches or changes them (a followed log, a cancel). */
  readonly #paused = new Set<string>();
  readonly #retryAt = new Map<string, number>();
  /** The active local jobs, as the last follow() gave them; checked on a timer while there are any. */
  #local: JobRecord[] = [];
  #localTimer: NodeJS.Timeout | null = null;
  #checking = false;

  constructor(
    private readonly config: LoadedConfig,
    private readonly observer: LiveObserver,
  ) {}

  /**
   * Follows the active jobs of `jobs` (call it about every second, with the registry's records): starts
   * watching remote ones not watched yet, stops watching those that ended or are gone, and checks the local
   * ones now and then every LOCAL_CHECK_MS. Failures go to the observer.
   */
  async follow(jobs: readonly JobRecord[]): Promise<void> {
    try {
      const local: JobRecord[] = [];
      const remote: JobRecord[] = [];
      for (const job of jobs.filter((j) => !isFinal(j.state) && !this.#paused.has(j.id))) {
        ((await openTarget(this.config, job.target)).layout === null ? local : remote).push(job);
      }
      this.#watchAll(remote);
      this.#local = local;
      this.#localTimer ??= setInterval(() => void this.#checkLocal(), LOCAL_CHECK_MS).unref();
      await this.#checkLocal();
    } catch (error) {
      this.observer.onError(error);
    }
  }

  /** Local jobs: the backend's poll, in this process (no command); an array is checked through its elements. */
  async #checkLocal(): Promise<void> {
    const jobs = this.#local.filter((job) => !isFinal(job.state) && !this.#paused.has(job.id));
    if (this.#checking || jobs.length === 0) return;
    this.#checking = true;
    try {
      const before = new Map(jobs.map((job) => [job.id, job.state]));
      await refreshJobs(this.config, jobs);
      for (const job of jobs) if (job.state !== before.get(job.id)) this.observer.onChange(job);
    } catch (error) {
      this.observer.onError(error);
    } finally {
      this.#checking = false;
    }
  }

  #watchAll(jobs: readonly JobRecord[]): void {
    const wanted = new Map<string, JobRecord>();
    for (const job of jobs) {
      for (const record of job.array ? activeElements(job) : [job]) if (record.schedulerId !== null) wanted.set(record.id, record);
    }
    for (const [id, watch] of this.#watches) if (!wanted.has(id)) this.#stop(id, watch);
    const now = Date.now();
    for (const [id, record] of wanted) {
      if (this.#watches.has(id) || (this.#retryAt.get(id) ?? 0) > now) continue;
      this.#retryAt.delete(id);
      const watch = new AbortController();
      this.#watches.set(id, watch);
      void this.#watch(record, watch);
    }
  }

  /** Stops following a job until resume(): something else is about to watch or change it. */
  pause(id: string): void {
    this.#paused.add(id);
    const watch = this.#watches.get(id);
    if (watch) this.#stop(id, watch);
  }

  /** Lets the next follow() follow the job again (if it is still active then). */
  resume(id: string): void {
    this.#paused.delete(id);
  }

  /** Stops every watch (the watcher's command ends once it follows no job) and the local checks. */
  close(): void {
    if (this.#localTimer) clearInterval(this.#localTimer);
    this.#localTimer = null;
    for (const [id, watch] of this.#watches) this.#stop(id, watch);
  }

  #stop(id: string, watch: AbortController): void {
    this.#watches.delete(id);
    watch.abort();
  }

  async #watch(record: JobRecord, watch: AbortController): Promise<void> {
    try {
      const session = await openTarget(this.config, record.target);
      const { fields } = await followState(session, record, watch.signal, (update) => this.#record(record.id, update));
      this.#record(record.id, fields);
    } catch (error) {
      if (watch.signal.aborted) return;
      this.#retryAt.set(record.id, Date.now() + RETRY_AFTER_MS);
      this.observer.onError(error);
    } finally {
      if (this.#watches.get(record.id) === watch) this.#watches.delete(record.id);
    }
  }

  /**
   * Writes a state into the record as it is on disk now. The first end recorded wins: a record already final
   * (a cancel from this view, a `run` or `attach` in another shell) is left as it is.
   */
  #record(id: string, fields: Partial<StatusFields>): void {
    const current = recordStatus(this.config.root, id, fields);
    if (current) this.observer.onChange(current);
  }
}
