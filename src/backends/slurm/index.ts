// The Slurm target's Backend: submit, poll and cancel each in ONE remote command. The snippets behind
// them are exported too, so the job pipeline can batch them with other layers' work.
import type { JobRecord } from "../../jobs/types.js";
import type { Transport } from "../../transport/types.js";
import type { Backend, JobStatus } from "../types.js";
import { cancelScript, checkCancelResult } from "./cancel.js";
import { type RenderInput, renderSbatch, type SlurmTargetOptions } from "./render.js";
import { parseStatusOutput, StatusTracker, statusSnippet } from "./status.js";
import { parseSubmitOutput, submitSnippet } from "./submit.js";

export interface SlurmBackendOptions {
  target: SlurmTargetOptions;
  /** Absolute dir on the target holding runner.py and ray_cluster.py. */
  runtimeDir: string;
  /** How long cancel waits for the job to be gone (seconds). */
  cancelWaitSeconds?: number;
}

export class SlurmBackend implements Backend {
  readonly kind = "slurm" as const;
  readonly #tracker = new StatusTracker();

  constructor(
    readonly transport: Transport,
    readonly options: SlurmBackendOptions,
  ) {}

  /** The sbatch script of a job (pure; throws InputError for a bad parameter). */
  render(job: JobRecord): string {
    const input: RenderInput = { job, target: this.options.target, runtimeDir: this.options.runtimeDir, python: job.python };
    return renderSbatch(input);
  }

  /** The submit snippet (job dir + job.json + sbatch.sh + sbatch), to batch; parse with parseSubmitOutput. */
  submitSnippet(job: JobRecord): string {
    return submitSnippet(job, this.render(job));
  }

  async submit(job: JobRecord): Promise<string> {
    const { stdout } = await this.transport.script(this.submitSnippet(job));
    return parseSubmitOutput(stdout);
  }

  async poll(jobs: readonly JobRecord[]): Promise<Map<string, JobStatus>> {
    const statuses = new Map<string, JobStatus>();
    const submitted = jobs.filter((j) => j.schedulerId !== null);
    for (const job of jobs.filter((j) => j.schedulerId === null)) {
      statuses.set(job.id, { state: job.state, reason: job.reason, exitCode: job.exitCode, startedAt: job.startedAt, endedAt: job.endedAt, nodes: null });
    }
    if (submitted.length === 0) return statuses;
    const { stdout } = await this.transport.script(statusSnippet(submitted.map((j) => ({ schedulerId: j.schedulerId!, dir: j.remoteDir }))));
    for (const [id, status] of this.#tracker.statuses(submitted, parseStatusOutput(stdout))) statuses.set(id, status);
    return statuses;
  }

  async cancel(job: JobRecord): Promise<void> {
    if (job.schedulerId === null) return;
    const { code, stderr } = await this.transport.script(cancelScript(job.schedulerId, this.options.cancelWaitSeconds));
    checkCancelResult(job.schedulerId, code, stderr);
  }
}

export { listJobs, type ListedJob, type ListedJobs } from "./jobs-list.js";
export { validateSlurmParams, type SlurmParams } from "./params.js";
export { renderSbatch, type SlurmTargetOptions } from "./render.js";
export { retryDecision, RETRYABLE_STATES } from "./retry.js";
export { statusSnippet, parseStatusOutput, resolveStatus } from "./status.js";
export { parseSubmitOutput } from "./submit.js";
export { SlurmScheduler, slurmWatcher, type QueueUpdate } from "./watch.js";
