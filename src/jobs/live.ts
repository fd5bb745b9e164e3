// Live job states for `slurmray jobs` (the live view and --watch). Every shown job that is pending or running
// (an array: each active element) is followed through its connection's one watcher (backends/watch), state
// only: the watcher's batched scheduler poll tells a start, the runner's status.json an end within ~100 ms,
// and no log or result bytes travel. So following N jobs on a target costs that one long-running command.
import { isFinal, type JobRecord, type JobState } from "../model/job.js";
import type { LoadedConfig } from "../config/load.js";
import { activeElements } from "./array-record.js";
import { findJob, saveJob } from "./registry.js";
import { openTarget } from "./session.js";

/** After a watch failed, the job is followed again only this much later (the view shows the error meanwhile). */
const RETRY_AFTER_MS = 15_000;

export interface LiveObserver {
  /** A followed job's state changed (it started or ended), and its record was saved. */
  onChange(job: JobRecord): void;
  /** A watch failed (the connection is gone for good, the target refused the watcher). */
  onError(error: unknown): void;
}

type StatusFields = Pick<JobRecord, "state" | "exitCode" | "endedAt" | "reason" | "startedAt">;

export class LiveJobs {
  /** The watches going on, by job (or element) id. */
  readonly #watches = new Map<string, AbortController>();
  /** Jobs not to follow for now: something else watches or changes them (a followed log, a cancel). */
  readonly #paused = new Set<string>();
  readonly #retryAt = new Map<string, number>();

  constructor(
    private readonly config: LoadedConfig,
    private readonly observer: LiveObserver,
  ) {}

  /** Follows each active job of `jobs` not followed yet, and stops following those that ended or are gone. */
  follow(jobs: readonly JobRecord[]): void {
    const wanted = new Map<string, JobRecord>();
    for (const job of jobs) {
      if (isFinal(job.state)) continue;
      for (const record of job.array ? activeElements(job) : [job]) if (record.schedulerId !== null) wanted.set(record.id, record);
    }
    for (const [id, watch] of this.#watches) if (!wanted.has(id)) this.#stop(id, watch);
    const now = Date.now();
    for (const [id, record] of wanted) {
      if (this.#watches.has(id) || this.#paused.has(id) || (this.#retryAt.get(id) ?? 0) > now) continue;
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

  /** Stops every watch (the watcher's command ends once it follows no job). */
  close(): void {
    for (const [id, watch] of this.#watches) this.#stop(id, watch);
  }

  #stop(id: string, watch: AbortController): void {
    this.#watches.delete(id);
    watch.abort();
  }

  async #watch(record: JobRecord, watch: AbortController): Promise<void> {
    try {
      const session = await openTarget(this.config, record.target);
      const { status } = await session.watch(record, {
        stateOnly: true,
        signal: watch.signal,
        onQueue: ({ state }) => {
          const started = state === "RUNNING" ? { startedAt: new Date().toISOString() } : {};
          this.#record(record.id, { state: state as JobState, ...started });
        },
      });
      const { state, exitCode, reason } = status;
      this.#record(record.id, { state, exitCode, reason, endedAt: status.endedAt ?? new Date().toISOString() });
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
    let current: JobRecord;
    try {
      current = findJob(this.config.root, id);
    } catch {
      return; // the record was removed (slurmray clean): nothing to show
    }
    if (isFinal(current.state) || current.state === fields.state) return;
    if (current.startedAt !== null) delete fields.startedAt;
    Object.assign(current, fields);
    saveJob(this.config.root, current);
    this.observer.onChange(current);
  }
}
