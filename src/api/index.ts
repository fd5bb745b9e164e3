// The public library: Cluster and Job. The same operations as the CLI, for use from TypeScript.
//
//   const cluster = new Cluster({ target: "cluster" });
//   const sum = await cluster.run("train.py:fit", { args: { lr: 0.1 } });
//   const results = await cluster.map("sweep.py:trial", [{ seed: 1 }, { seed: 2 }]);
import { loadConfig } from "../config/load.js";
import type { ResourceFlags } from "../config/target.js";
import { cancelJob, readJobLog, readJobOutcome, refreshJobs } from "../jobs/control.js";
import { formatRemoteError, resultForDisplay } from "../model/outcome.js";
import { findJob, listJobs } from "../jobs/registry.js";
import { finishJob, runJob } from "../jobs/run.js";
import { closeSessions, openTarget } from "../jobs/session.js";
import { isFinal, type JobRecord, type JobState } from "../model/job.js";
import { JobFailedError } from "../util/errors.js";

export * from "../util/errors.js";
export type { JobRecord, JobState } from "../model/job.js";
export type { RunReport } from "../jobs/report.js";

export interface SubmitOptions {
  args?: Record<string, unknown>;
  scriptArgs?: string[];
  resources?: ResourceFlags;
  ray?: boolean;
  env?: Record<string, string>;
}

export class Job {
  constructor(
    private readonly cwd: string,
    public record: JobRecord,
  ) {}

  get id(): string {
    return this.record.id;
  }

  async status(): Promise<JobState> {
    await refreshJobs(loadConfig(this.cwd), [this.record]);
    return this.record.state;
  }

  /** The job's output so far. */
  async logs(): Promise<string> {
    return (await readJobLog(loadConfig(this.cwd), this.record)).text;
  }

  /** Waits for the job to end; resolves with its result, or rejects with a JobFailedError carrying the Python traceback. */
  async result(options: { onLog?: (text: string) => void; signal?: AbortSignal } = {}): Promise<unknown> {
    const config = loadConfig(this.cwd);
    if (!isFinal(this.record.state)) await finishJob(await openTarget(config, this.record.target), this.record, options, false);
    const outcome = await readJobOutcome(config, this.record);
    if (this.record.state !== "COMPLETED") {
      const detail = outcome.error ? formatRemoteError(outcome.error) : (this.record.reason ?? "no error recorded");
      throw new JobFailedError(`job ${this.id} ended ${this.record.state}:\n${detail}`);
    }
    return resultForDisplay(outcome.result);
  }

  async cancel(): Promise<void> {
    await cancelJob(loadConfig(this.cwd), this.record);
  }
}

export class Cluster {
  private readonly cwd: string;
  private readonly target: string | undefined;

  constructor(options: { cwd?: string; target?: string } = {}) {
    this.cwd = options.cwd ?? process.cwd();
    this.target = options.target;
  }

  /** Starts a job and returns at once. */
  async submit(entry: string, options: SubmitOptions = {}): Promise<Job> {
    const report = await runJob({
      cwd: this.cwd,
      entry,
      args: options.args ?? {},
      scriptArgs: options.scriptArgs ?? [],
      target: this.target,
      resources: options.resources ?? {},
      ray: options.ray,
      env: options.env,
      detach: true,
      dryRun: false,
    });
    return this.job(report.job_id);
  }

  /** Runs a job to the end and returns its result. */
  async run(entry: string, options: SubmitOptions = {}): Promise<unknown> {
    return (await this.submit(entry, options)).result();
  }

  /** Runs one job per argument set, all at once, and returns the results in order. */
  async map(entry: string, argsList: Record<string, unknown>[], options: Omit<SubmitOptions, "args"> = {}): Promise<unknown[]> {
    const jobs: Job[] = [];
    for (const args of argsList) jobs.push(await this.submit(entry, { ...options, args }));
    return Promise.all(jobs.map((job) => job.result()));
  }

  job(id: string): Job {
    return new Job(this.cwd, findJob(loadConfig(this.cwd).root, id));
  }

  /** Closes the connections this process opened (call when done, so the process can exit). */
  close(): Promise<void> {
    return closeSessions();
  }

  jobs(): Job[] {
    return listJobs(loadConfig(this.cwd).root).map((record) => new Job(this.cwd, record));
  }
}
