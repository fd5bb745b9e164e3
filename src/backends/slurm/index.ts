// The Slurm target's Backend: submit, poll, cancel, list and the active-jobs check each in ONE remote command.
// The snippets behind them are exported too, so the job pipeline can batch them with other layers' work.
import type { SlurmTargetConfig, TargetConfig } from "../../config/schema.js";
import type { JobRecord, JobSpec, JobState } from "../../model/job.js";
import type { ListedJobs } from "../../model/listed-job.js";
import type { Transport } from "../../transport/types.js";
import { type JobFiles, remoteFiles } from "../job-files.js";
import { runnerSpecJson } from "../../model/runner-spec.js";
import type { ArraySubmission, Backend, BackendContext, JobStatus, LimitsCheck, RetryDecision, WatchRequest, WatchResult } from "../types.js";
import { cancelScript, checkCancelResult } from "./cancel.js";
import { listJobs, liveJobsCommand } from "./jobs-list.js";
import { checkLimits, LIMITS_SECTION, limitsSnippet, parseLimits } from "./limits.js";
import { type RenderInput, renderSbatch, type SlurmTargetOptions } from "./render.js";
import { retryDecision } from "./retry.js";
import { arraySpec } from "./array.js";
import { parseStatusOutput, StatusTracker, statusSnippet } from "./status.js";
import { parseSubmitOutput, submitDirsSnippet, submitSnippet } from "./submit.js";
import { slurmWatcher } from "./watch.js";

export interface SlurmBackendOptions {
  target: SlurmTargetOptions;
  /** Times a job ended by the cluster (NODE_FAIL, PREEMPTED) is submitted again. */
  maxRetries?: number;
  /** Absolute dir on the target holding runner.py and ray_cluster.py. */
  runtimeDir: string;
  /** How long cancel waits for the job to be gone (seconds). */
  cancelWaitSeconds?: number;
}

/** The sbatch-related options of a slurm target's config. */
export function slurmOptions(t: SlurmTargetConfig): SlurmTargetOptions {
  return { partition: t.partition, account: t.account, qos: t.qos, constraint: t.constraint, modules: t.modules, extraSbatch: t.sbatch, setup: t.setup, defaults: t.defaults };
}

/** The Slurm job name carries the project and the slurmray id, so `list` finds a project's jobs. */
const JOB_NAME_PREFIX = "slurmray-";

export class SlurmBackend implements Backend {
  readonly kind = "slurm" as const;
  readonly files: JobFiles;
  readonly limits: LimitsCheck = {
    snippet: limitsSnippet(),
    section: LIMITS_SECTION,
    check: (spec, lines) => checkLimits(spec, parseLimits(lines)),
  };
  readonly #tracker = new StatusTracker();

  constructor(
    readonly transport: Transport,
    readonly options: SlurmBackendOptions,
  ) {
    this.files = remoteFiles(transport);
  }

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

  /** A Slurm job array: one sbatch.sh in the array's dir, each element's job.json in <dir>/<index>/. */
  async submitArray(array: JobRecord, elements: readonly JobRecord[], maxParallel: number): Promise<ArraySubmission> {
    const dirs = elements.map((element) => ({ dir: element.remoteDir, spec: runnerSpecJson(element) }));
    const indices = elements.map((element) => element.element!);
    const snippet = submitDirsSnippet(array.remoteDir, array, dirs, this.render(array), [`--array=${arraySpec(indices, maxParallel)}`]);
    const id = parseSubmitOutput((await this.transport.script(snippet)).stdout);
    return { schedulerId: id, elements: new Map(indices.map((index) => [index, `${id}_${index}`])) };
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

  /** Through the connection's one watcher, with every other job this process watches there. */
  watch(job: JobRecord, request: WatchRequest): Promise<WatchResult> {
    return slurmWatcher(this.transport).watch(job, request);
  }

  liveJobsCommand(project: string): string {
    return liveJobsCommand(project);
  }

  async cancel(job: JobRecord): Promise<void> {
    if (job.schedulerId === null) return;
    const { code, stderr } = await this.transport.script(cancelScript(job.schedulerId, this.options.cancelWaitSeconds));
    checkCancelResult(job.schedulerId, code, stderr);
  }

  async list(project: string, _records: readonly JobRecord[]): Promise<ListedJobs> {
    const prefix = `${JOB_NAME_PREFIX}${project}-`;
    const { jobs, sacctError } = await listJobs(this.transport);
    return {
      sacctError,
      jobs: jobs
        .filter((job) => job.name.startsWith(prefix))
        .map(({ name, slurmState, ...rest }) => ({ ...rest, jobId: name.slice(prefix.length), schedulerState: slurmState })),
    };
  }

  retry(state: JobState, attempt: number): RetryDecision {
    return retryDecision(state, attempt, this.options.maxRetries ?? 0);
  }
}

/** Every Slurm parameter is validated by rendering the script with placeholder paths. */
export function checkSlurmJob(target: TargetConfig, spec: JobSpec): void {
  const placeholder = { id: "0", kind: "slurm", project: "check", spec, remoteDir: "/check/job", codeDir: "/check/code", python: "/check/python" } as JobRecord;
  renderSbatch({ job: placeholder, target: slurmOptions(target as SlurmTargetConfig), runtimeDir: "/check/runtime", python: "/check/python" });
}

/** The backend of a slurm target (registered in ../registry.ts). */
export function createSlurmBackend(context: BackendContext): SlurmBackend {
  const target = context.target as SlurmTargetConfig;
  return new SlurmBackend(context.transport, { target: slurmOptions(target), maxRetries: target.max_retries, runtimeDir: context.runtimeDir! });
}

export { listJobs } from "./jobs-list.js";
export { validateSlurmParams, type SlurmParams } from "./params.js";
export { renderSbatch, type SlurmTargetOptions } from "./render.js";
export { retryDecision, RETRYABLE_STATES } from "./retry.js";
export { statusSnippet, parseStatusOutput, resolveStatus } from "./status.js";
export { parseSubmitOutput } from "./submit.js";
export { SlurmScheduler, slurmWatcher } from "./watch.js";
