// The public library: Cluster and Job. The same operations as the CLI, through the same code paths, for use
// from TypeScript. Every long call takes an AbortSignal; every error is a SlurmrayError with the CLI's exitCode.
//
//   const cluster = new Cluster({ target: "cluster" });
//   const sum = await cluster.run("train.py:fit", { args: { lr: 0.1 } });
//   const sweep = await cluster.map("sweep.py:trial", [{ seed: 1 }, { seed: 2 }], { maxParallel: 2 });
//   for (const element of sweep.elements) console.log(element.index, element.state, element.result);
import { loadConfig } from "../config/load.js";
import type { ResourceFlags } from "../config/target.js";
import type { ConnectOptions } from "../jobs/connect.js";
import { cancelJob, readJobLog, readJobOutcome, refreshJobs } from "../jobs/control.js";
import { type ElementOutcome as JobsElementOutcome, type MapReport as JobsMapReport, finishArray, mapJob, retryFailed } from "../jobs/map.js";
import { findJob, listJobs } from "../jobs/registry.js";
import { fetchJobOutputs } from "../jobs/remote-run.js";
import { finishJob, followToEnd, runJob } from "../jobs/run.js";
import { closeSessions, openTarget } from "../jobs/session.js";
import { isFinal, type JobRecord, type JobState } from "../model/job.js";
import { argsFromValues } from "../model/job-args.js";
import { completedResult, formatRemoteError, printedValue, resultForDisplay } from "../model/outcome.js";
import { InputError, JobFailedError } from "../util/errors.js";
import { checkBoolean, checkOptionNames, checkResources, checkScriptArgs } from "./options.js";

export * from "../util/errors.js";
export type { JobRecord, JobState, RemoteError } from "../model/job.js";
export type { RunReport } from "../jobs/report.js";

/** An element's outcome as the API gives it: its result's value parsed (an integer past 2**53 is a bigint). */
export type ElementOutcome = Omit<JobsElementOutcome, "result"> & { result: unknown };
export type MapReport = Omit<JobsMapReport, "elements"> & { elements: ElementOutcome[] };

function parsedElements(elements: readonly JobsElementOutcome[]): ElementOutcome[] {
  return elements.map((element) => ({ ...element, result: printedValue(element.result) }));
}

function parsedReport(report: JobsMapReport): MapReport {
  return { ...report, elements: parsedElements(report.elements) };
}

const SUBMIT_OPTIONS = ["args", "scriptArgs", "resources", "ray", "env", "signal"] as const;
const RUN_OPTIONS = [...SUBMIT_OPTIONS, "onLog"] as const;
const MAP_OPTIONS = ["resources", "ray", "env", "signal", "maxParallel"] as const;

export interface SubmitOptions {
  args?: Record<string, unknown>;
  scriptArgs?: string[];
  resources?: ResourceFlags;
  ray?: boolean;
  env?: Record<string, string>;
  /** Aborting stops the call: before submission nothing runs; `run` then cancels its job. */
  signal?: AbortSignal;
}

export interface RunOptions extends SubmitOptions {
  /** The job's output as it arrives. */
  onLog?: (text: string) => void;
}

export interface MapOptions extends Omit<SubmitOptions, "args" | "scriptArgs"> {
  /** At most this many elements run at once (default: all). */
  maxParallel?: number;
}

export interface LogOptions {
  /** Keep yielding new output until the job ends (default: only what there is now). */
  follow?: boolean;
  signal?: AbortSignal;
}

/** A push-to-pull queue: what a callback hands in, an async iterator hands out. */
function channel<T>(): { push(value: T): void; end(error?: unknown): void; iterate(): AsyncGenerator<T> } {
  const items: T[] = [];
  let done = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  return {
    push(value) {
      items.push(value);
      notify();
    },
    end(error) {
      done = true;
      failure = error ?? null;
      notify();
    },
    async *iterate() {
      for (;;) {
        while (items.length > 0) yield items.shift()!;
        if (done) {
          if (failure) throw failure;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

export class Job {
  constructor(
    private readonly cwd: string,
    public record: JobRecord,
  ) {}

  /** The job id; "J_N" for element N of array J. */
  get id(): string {
    return this.record.id;
  }

  /** The job's state now, asked of its target when it may still change. */
  async status(): Promise<JobState> {
    await refreshJobs(loadConfig(this.cwd), [this.record]);
    return this.record.state;
  }

  /** The job's output: what there is now, or with `follow` everything until the job ends, as it arrives. */
  async *logs(options: LogOptions = {}): AsyncGenerator<string> {
    if (this.record.array) throw new InputError(`job ${this.id} is an array: read one element's log, cluster.job("${this.id}_N").logs()`);
    const config = loadConfig(this.cwd);
    if (options.follow) await refreshJobs(config, [this.record]);
    const { text, offset } = await readJobLog(config, this.record);
    if (text) yield text;
    if (!options.follow || isFinal(this.record.state)) return;
    const output = channel<string>();
    const session = await openTarget(config, this.record.target);
    finishJob(session, this.record, { onLog: (more) => output.push(more), signal: options.signal }, false, offset).then(
      () => output.end(),
      (error: unknown) => output.end(error),
    );
    yield* output.iterate();
  }

  /**
   * Waits for the job to end; resolves with its result, or rejects with a JobFailedError carrying the Python
   * traceback. For an array: every element's outcome, in order (a failed element does not reject).
   */
  async result(options: { onLog?: (text: string) => void; signal?: AbortSignal } = {}): Promise<unknown> {
    const config = loadConfig(this.cwd);
    if (this.record.array) {
      return parsedElements((await finishArray(await openTarget(config, this.record.target), this.record, { signal: options.signal }, false)).elements);
    }
    // As attach waits (a job the cluster ended goes back in, up to max_retries), its outputs left for outputs().
    if (!isFinal(this.record.state)) await followToEnd(await openTarget(config, this.record.target), this.record, options, false, undefined, false);
    const outcome = await readJobOutcome(config, this.record);
    if (this.record.state !== "COMPLETED") {
      const detail = outcome.error ? formatRemoteError(outcome.error) : (this.record.reason ?? "no error recorded");
      throw new JobFailedError(`job ${this.id} ended ${this.record.state}:\n${detail}`);
    }
    return resultForDisplay(completedResult(this.id, this.record.remoteDir, outcome));
  }

  /**
   * Brings what the job wrote under its outputs folder into `dir` (default: .slurmray/jobs/<id>/outputs), only
   * files that changed; resolves with where they are. Waits for the job to end first.
   */
  async outputs(options: { dir?: string; signal?: AbortSignal } = {}): Promise<{ dir: string; files: number; bytes: number }> {
    const config = loadConfig(this.cwd);
    if (this.record.array) throw new InputError(`job ${this.id} is an array: each element has its own outputs, cluster.job("${this.id}_N").outputs()`);
    const session = await openTarget(config, this.record.target);
    if (!isFinal(this.record.state)) await finishJob(session, this.record, { signal: options.signal }, false);
    return fetchJobOutputs(session, this.record, options.dir);
  }

  /** Cancels the job (an array: every element still pending or running) and resolves once it is gone. */
  async cancel(): Promise<void> {
    await cancelJob(loadConfig(this.cwd), this.record);
  }
}

export class Cluster {
  private readonly cwd: string;
  private readonly target: string | undefined;
  private readonly connect: ConnectOptions;

  /** `target`: a target of the project's slurmray.toml (default: its default target). `cwd`: the project. */
  constructor(options: { cwd?: string; target?: string; acceptNewHostKey?: boolean } = {}) {
    checkOptionNames(options, ["cwd", "target", "acceptNewHostKey"], "new Cluster");
    this.cwd = options.cwd ?? process.cwd();
    this.target = options.target;
    this.connect = { acceptNewHostKey: options.acceptNewHostKey };
  }

  /** The request for jobs/ from `options`, checked; `call` names the method in errors, `valid` its options. */
  private request(entry: string, options: RunOptions, detach: boolean, call: string, valid: readonly string[]) {
    checkOptionNames(options, valid, call);
    return {
      cwd: this.cwd,
      entry,
      args: argsFromValues(options.args ?? {}),
      scriptArgs: checkScriptArgs(options.scriptArgs),
      target: this.target,
      resources: checkResources(options.resources),
      ray: checkBoolean(options.ray, "ray"),
      env: options.env,
      detach,
      dryRun: false,
      connect: this.connect,
      signal: options.signal,
      onLog: options.onLog,
    };
  }

  /** Starts a job and returns it at once. */
  async submit(entry: string, options: SubmitOptions = {}): Promise<Job> {
    const report = await runJob(this.request(entry, options, true, "submit", SUBMIT_OPTIONS));
    return this.job(report.job_id);
  }

  /** Runs a job to the end and returns its result; rejects with a JobFailedError when it fails. Aborting cancels it. */
  async run(entry: string, options: RunOptions = {}): Promise<unknown> {
    const report = await runJob(this.request(entry, options, false, "run", RUN_OPTIONS));
    if (report.state !== "COMPLETED") {
      const detail = report.error ? formatRemoteError(report.error) : report.state;
      throw new JobFailedError(`job ${report.job_id} ended ${report.state}:\n${detail}`);
    }
    return printedValue(report.result);
  }

  /**
   * Runs the entry once per argument set as ONE job array (the path of `slurmray map`) and resolves, once all
   * have ended, with every element's outcome in input order. A failed element is an outcome, not a rejection.
   */
  async map(entry: string, argsList: Record<string, unknown>[], options: MapOptions = {}): Promise<MapReport> {
    const { args: _args, scriptArgs: _scriptArgs, detach: _detach, onLog: _onLog, ...request } = this.request(entry, options, false, "map", MAP_OPTIONS);
    if (!Array.isArray(argsList)) throw new InputError("map: argsList must be an array of keyword-argument objects such as [{ seed: 1 }]");
    const texts = argsList.map((args, index) => argsFromValues(args, `argsList[${index}]`));
    return parsedReport(await mapJob({ ...request, argsList: texts, maxParallel: options.maxParallel }));
  }

  /** Submits again the elements of array `jobId` that did not complete, and resolves with all its outcomes. */
  async retryFailed(jobId: string, options: { signal?: AbortSignal } = {}): Promise<MapReport> {
    return parsedReport(await retryFailed({ cwd: this.cwd, job: jobId, connect: this.connect, signal: options.signal }));
  }

  /** A job of this project by id ("J_N" for element N of array J), or a unique prefix of one. */
  job(id: string): Job {
    return new Job(this.cwd, findJob(loadConfig(this.cwd).root, id));
  }

  jobs(): Job[] {
    return listJobs(loadConfig(this.cwd).root).map((record) => new Job(this.cwd, record));
  }

  /** Closes the connections this process opened (call when done, so the process can exit). */
  close(): Promise<void> {
    return closeSessions();
  }
}

