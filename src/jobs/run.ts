// The job lifecycle: plan → code sync → env sync → submit → watch → fetch.
// This module is the one place that sequences those steps; each step lives in its own layer.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { projectInterpreter } from "../config/interpreter.js";
import { type LoadedConfig, loadConfig } from "../config/load.js";
import { type ResourceFlags, resolveResources, resolveTarget } from "../config/target.js";
import { writeFileAtomic } from "../util/fs.js";
import { InputError, InterruptedError } from "../util/errors.js";
import type { ConnectOptions } from "./connect.js";
import { parseEntry, runnerEntry } from "./entry.js";
import { checkEntryFunction } from "./entry-check.js";
import { completedResult, type Outcome, resultToPrint } from "../model/outcome.js";
import { claimEnv, jobsDir, newJobId, saveJob, saveSubmitted } from "./registry.js";
import type { OutputsResult } from "../codesync/outputs.js";
import { fetchJobOutputs, pinPrepared, prepareLocal, prepareRemote } from "./remote-run.js";
import { emptyTimings, type RunReport, type StepObserver, type Timings, timed } from "./report.js";
import { cacheDir, checkJob, openTarget, unappliedResources, type TargetSession, type WatchRequest } from "./session.js";
import type { JobRecord, JobSpec } from "../model/job.js";
import { type ArgsJson, hasArgs } from "../model/job-args.js";
import { checkJobEnv } from "../model/job-env.js";

export interface RunRequest {
  cwd: string;
  entry: string;
  /** Keyword arguments: the JSON text of an object (model/job-args.ts). */
  args: ArgsJson;
  /** The argument sets the entry check holds the function to (map: every element's); default [args]. */
  argSets?: readonly ArgsJson[];
  scriptArgs: string[];
  target?: string;
  resources: ResourceFlags;
  ray?: boolean;
  /** "ray": multiprocessing.Pool inside the job is Ray's (Ray is then on). */
  pool?: "ray";
  env?: Record<string, string>;
  detach: boolean;
  dryRun: boolean;
  connect?: ConnectOptions;
  signal?: AbortSignal;
  /** Job output as it arrives. */
  onLog?: (text: string) => void;
  /** Messages for the human that are no step: a reconnect, a retry, a cancellation (stderr). */
  onProgress?: (message: string) => void;
  /** Warnings, as soon as they arise (they are also in the report). */
  onWarning?: (message: string) => void;
  /** Steps as they start and end (the CLI draws its progress from these). */
  onStep?: StepObserver;
  /** The job, once submitted; its record object is kept up to date while it is watched. */
  onSubmitted?: (job: JobRecord) => void;
}

/** The job record before submission. Local jobs run in place; remote ones in the layout's job dir. */
function newJob(session: TargetSession, spec: JobSpec): JobRecord {
  const { config, target, layout } = session;
  const id = newJobId();
  return {
    id,
    target: target.name,
    kind: target.config.kind,
    project: config.projectName,
    spec,
    state: "SUBMITTING",
    schedulerId: null,
    remoteDir: layout ? `${layout.jobsDir}/${id}` : join(jobsDir(config.root), id),
    codeDir: "", // the code tree the job pins, set by the code sync
    python: projectInterpreter(config.root, config.env, config.project.interpreter),
    createdAt: new Date().toISOString(),
    startedAt: null,
    endedAt: null,
    reason: null,
    exitCode: null,
  };
}

/** A pickled result stays on the target until asked for: bring it next to the local record. */
async function fetchPickle(session: TargetSession, job: JobRecord, outcome: Outcome, onStep?: StepObserver): Promise<void> {
  if (!session.layout || !outcome.result || !("pickle" in outcome.result)) return;
  onStep?.({ step: "fetch", phase: "start", text: "fetching the pickled result" });
  const bytes = await session.files.readBytes(`${job.remoteDir}/result.pkl`);
  if (!bytes) return;
  const local = join(jobsDir(session.config.root), job.id, "result.pkl");
  writeFileAtomic(local, bytes);
  outcome.result.pickle = local;
  onStep?.({ step: "fetch", phase: "end", text: `fetched the result: ${bytes.length} bytes` });
}

function describeQueue(state: string, reason: string, position: number | null): string {
  return `${state}${reason && reason !== "None" ? ` (${reason})` : ""}${position !== null ? `, position ${position} in the queue` : ""}`;
}

/**
 * Waits for a submitted job, records its final state, and reads its result. Shared by run, attach and the API.
 * `cancelOnInterrupt`: Ctrl-C during `run` cancels the job; during `attach` it only stops watching.
 */
export async function finishJob(
  session: TargetSession,
  job: JobRecord,
  request: Pick<RunRequest, "onLog" | "onProgress" | "onStep" | "signal">,
  cancelOnInterrupt: boolean,
  fromOffset = 0,
): Promise<{ outcome: Outcome; queueSeconds: number; logOffset: number; outputs: number | null }> {
  const { config, backend } = session;
  const submitted = performance.now();
  const submittedAt = Date.now();
  let queueSeconds = 0;
  const watch: WatchRequest = {
    fromOffset,
    onLog: request.onLog,
    signal: request.signal,
    onQueue: (update) => {
      const text = `job ${job.id}: ${update.state === "RUNNING" ? "running" : describeQueue(update.state, update.reason, update.position)}`;
      request.onStep?.({ step: update.state === "RUNNING" ? "run" : "queue_wait", phase: "update", text });
      if (update.state === "RUNNING" && job.state !== "RUNNING") {
        queueSeconds = Math.round(performance.now() - submitted) / 1000;
        Object.assign(job, { state: "RUNNING", startedAt: new Date().toISOString() });
        saveJob(config.root, job);
      }
    },
    onReconnect: (attempt, delayMs) => request.onProgress?.(`connection lost; reconnecting in ${Math.round(delayMs / 1000)} s (attempt ${attempt}); the job is unaffected`),
  };
  try {
    const { status, outcome, logOffset, outputs = null } = await session.watch(job, watch);
    // A job that started and ended between two scheduler polls was never seen RUNNING: its start says when.
    const started = status.startedAt ? Date.parse(status.startedAt) : Number.NaN;
    if (queueSeconds === 0 && !Number.isNaN(started)) queueSeconds = Math.max(0, Math.round(started - submittedAt) / 1000);
    Object.assign(job, { state: status.state, exitCode: status.exitCode, endedAt: status.endedAt ?? new Date().toISOString(), reason: status.reason });
    saveJob(config.root, job);
    request.onStep?.({ step: "run", phase: "end", text: `job ${job.id} ended ${job.state}`, failed: job.state !== "COMPLETED" });
    await fetchPickle(session, job, outcome, request.onStep);
    return { outcome, queueSeconds, logOffset, outputs };
  } catch (error) {
    if (request.signal?.aborted && !cancelOnInterrupt) {
      throw new InterruptedError(`Stopped watching; job ${job.id} goes on (slurmray attach ${job.id})`);
    }
    if (request.signal?.aborted) {
      request.onProgress?.(`cancelling job ${job.id}…`);
      await backend.cancel(job);
      Object.assign(job, { state: "CANCELLED", endedAt: new Date().toISOString(), reason: "interrupted (Ctrl-C)" });
      saveJob(config.root, job);
      throw new InterruptedError(`Interrupted: job ${job.id} was cancelled`);
    }
    throw error;
  }
}

/**
 * Follows a submitted job to its end as `run` does: a job the cluster ended (a node failed, it was preempted)
 * goes back in, up to max_retries, and with `bringOutputs` its outputs come back. Shared by run, attach and the
 * API's Job.result().
 */
export async function followToEnd(
  session: TargetSession,
  job: JobRecord,
  request: Pick<RunRequest, "onLog" | "onProgress" | "onStep" | "signal">,
  cancelOnInterrupt: boolean,
  timings: Timings = emptyTimings(),
  bringOutputs = true,
): Promise<{ outcome: Outcome; queueSeconds: number; outputs: OutputsResult | null; warnings: string[] }> {
  const warnings: string[] = [];
  let { outcome, queueSeconds, logOffset, outputs: outputCount } = await finishJob(session, job, request, cancelOnInterrupt);
  for (let attempt = 1; ; attempt++) {
    const decision = session.backend.retry(job.state, attempt);
    if (decision.message) request.onProgress?.(decision.message);
    if (!decision.retry) break;
    warnings.push(decision.message!);
    job.schedulerId = await submit(session, job, timings);
    Object.assign(job, { state: "PENDING", endedAt: null, reason: null, exitCode: null });
    saveJob(session.config.root, job);
    ({ outcome, queueSeconds, logOffset, outputs: outputCount } = await finishJob(session, job, request, cancelOnInterrupt, logOffset));
  }
  // The runner counted the job's outputs: none means nothing to fetch, and no remote command for it.
  if (outputCount === 0 || !bringOutputs) return { outcome, queueSeconds, outputs: null, warnings };
  const outputs = await timed(timings, "fetch", () => fetchJobOutputs(session, job, undefined, request.onProgress));
  request.onProgress?.(`outputs of job ${job.id}: ${outputs.dir}${outputs.files ? ` (${outputs.files} file(s) brought back)` : ""}`);
  return { outcome, queueSeconds, outputs, warnings };
}

/**
 * Submits and records the job; a refused submission is recorded FAILED with the reason, never left half-done.
 * `send` submits it another way (an array's elements).
 */
export async function submit<T = string>(session: TargetSession, job: JobRecord, timings: Timings, send?: () => Promise<T>): Promise<T> {
  saveJob(session.config.root, job);
  try {
    return await timed(timings, "submit", send ?? (() => session.backend.submit(job) as Promise<T>));
  } catch (error) {
    Object.assign(job, { state: "FAILED", endedAt: new Date().toISOString(), reason: `submission failed: ${error instanceof Error ? error.message : String(error)}` });
    saveJob(session.config.root, job);
    throw error;
  }
}

function checkEntryForm(request: RunRequest, config: LoadedConfig): string {
  const entry = parseEntry(request.entry, request.cwd, config.root);
  if (entry.kind === "script" && hasArgs(request.args)) {
    throw new InputError(`--args: ${request.entry} is a script; pass its arguments after -- instead`);
  }
  if (entry.kind !== "script" && request.scriptArgs.length > 0) {
    throw new InputError(`arguments after -- are for scripts; ${request.entry} is a function: use --args '{"name": value}'`);
  }
  return runnerEntry(entry);
}

/** Ray is on when asked, when the job spans several nodes, or when its Pool is Ray's. */
function wantsRay(request: RunRequest, config: LoadedConfig, nodes: number): boolean {
  const pool = request.pool ?? config.project.pool;
  if (pool === "ray" && (request.ray === false || (request.ray === undefined && config.project.ray === false))) {
    throw new InputError(`pool "ray" needs Ray: drop --no-ray (or project.ray = false), or the pool`);
  }
  return request.ray ?? config.project.ray ?? (nodes > 1 || pool === "ray");
}

/** The report of a job not yet submitted; on the local target there is no env to sync. */
export function newReport(session: TargetSession, job: JobRecord, timings: Timings): RunReport {
  return {
    job_id: job.id,
    target: session.target.name,
    state: "PLANNED",
    result: null,
    error: null,
    env: session.layout ? null : { created: false, reused: true, installed: [], changed: [], unchanged: null, seconds: 0 },
    code: null,
    timings,
    remote_commands: 0,
    warnings: [],
  };
}

/** A job checked and prepared up to its submission: what `run` and `map` share. */
export interface PreparedJob {
  session: TargetSession;
  job: JobRecord;
  report: RunReport & { dry_run?: string[] };
  timings: Timings;
  /** The report with its remote command count and total time filled in, once the target's background work is done. */
  finish(): Promise<RunReport & { dry_run?: string[] }>;
  /** Ends the job's claim on the env (registry.ts, claimEnv): call it once the record names the scheduler's id, or the submission failed. */
  releaseClaim(): void;
}

/** The report once the target's background work is done, with its remote command count and total time. */
export async function finishReport<R extends RunReport>(session: TargetSession, report: R, started: number, background: Promise<void>): Promise<R> {
  await background;
  report.remote_commands = session.layout ? session.transport.commandCount : 0;
  report.timings.total = Math.round(performance.now() - started) / 1000;
  return report;
}

/** Checks the request, opens the target, and ships code, env and runtime (remote targets): all but the submission. */
export async function prepareJob(request: RunRequest): Promise<PreparedJob> {
  const started = performance.now();
  const timings = emptyTimings();
  const config = loadConfig(request.cwd);
  const target = resolveTarget(config, request.target);
  const resources = resolveResources(target.config, request.resources);
  const spec: JobSpec = {
    entry: checkEntryForm(request, config),
    args: request.args,
    scriptArgs: request.scriptArgs,
    env: checkJobEnv(request.env ?? {}),
    ray: wantsRay(request, config, resources.nodes),
    pool: request.pool ?? config.project.pool ?? null,
    resources,
    ...(config.project.outputs ? { outputs: config.project.outputs.replace(/\/$/, "") } : {}),
  };
  checkJob(target, spec);
  const argSets = request.argSets ?? [request.args];
  const entryWarning = checkEntryFunction(projectInterpreter(config.root, config.env, config.project.interpreter), config.root, spec.entry, argSets, cacheDir(config));
  const session = await openTarget(config, target.name, request.connect);
  const job = newJob(session, spec);
  const report: RunReport & { dry_run?: string[] } = newReport(session, job, timings);
  const warn = (warning: string) => {
    report.warnings.push(warning);
    request.onWarning?.(warning);
  };
  if (entryWarning) warn(entryWarning);
  const resourceWarning = unappliedResources(target, request.resources);
  if (resourceWarning) warn(resourceWarning);
  let background = Promise.resolve();
  const finish = () => finishReport(session, report, started, background);
  const releaseClaim = session.layout && !request.dryRun ? claimEnv(config.root, job.id) : () => {};
  try {
    const prepared = session.layout
      ? await prepareRemote(session, job, report, warn, request.dryRun, request.signal, request.onStep)
      : await prepareLocal(session, job, report, warn, request.dryRun);
    background = prepared.background;
    pinPrepared(job, prepared);
    if (prepared.dryRunList) report.dry_run = prepared.dryRunList;
    if (!request.dryRun && request.signal?.aborted) throw new InterruptedError("Interrupted before the job was submitted; nothing is running");
  } catch (error) {
    releaseClaim();
    throw error;
  }
  return { session, job, report, timings, finish, releaseClaim };
}

export async function runJob(request: RunRequest): Promise<RunReport & { dry_run?: string[] }> {
  const { session, job, report, timings, finish, releaseClaim } = await prepareJob(request);
  const { config } = session;
  if (request.dryRun) return finish();

  if (!session.layout) mkdirSync(job.remoteDir, { recursive: true, mode: 0o700 });
  request.onStep?.({ step: "submit", phase: "start", text: `submitting to ${session.target.name}` });
  try {
    job.schedulerId = await submit(session, job, timings);
    Object.assign(job, { state: session.layout ? "PENDING" : "RUNNING", startedAt: session.layout ? null : new Date().toISOString() });
    if (saveSubmitted(config.root, job)) await session.backend.cancel(job);
  } finally {
    releaseClaim();
  }
  request.onStep?.(
    session.layout
      ? { step: "queue_wait", phase: "start", text: `job ${job.id}: submitted to ${session.target.name} as job ${job.schedulerId}, waiting to start` }
      : { step: "run", phase: "start", text: `job ${job.id}: running` },
  );
  request.onSubmitted?.(job);
  if (request.detach) {
    report.state = job.state;
    return finish();
  }
  const runStart = performance.now();
  const { outcome, queueSeconds, outputs, warnings } = await followToEnd(session, job, request, true, timings);
  report.warnings.push(...warnings);
  if (outputs) report.outputs = outputs;
  timings.queue_wait = queueSeconds;
  timings.run = Math.round(performance.now() - runStart) / 1000 - queueSeconds;
  report.state = job.state;
  report.reason = job.reason;
  report.result = resultToPrint(job.state === "COMPLETED" ? completedResult(job.id, job.remoteDir, outcome) : outcome.result);
  report.error = outcome.error;
  return finish();
}
