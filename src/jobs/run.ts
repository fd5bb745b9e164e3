// The job lifecycle: plan → code sync → env sync → submit → watch → fetch.
// This module is the one place that sequences those steps; each step lives in its own layer.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { LocalBackend } from "../backends/local/index.js";
import type { Backend } from "../backends/types.js";
import { projectInterpreter } from "../config/interpreter.js";
import { type LoadedConfig, loadConfig } from "../config/load.js";
import { type ResolvedTarget, type ResourceFlags, resolveResources, resolveTarget } from "../config/target.js";
import { LocalTransport } from "../transport/local.js";
import { InputError, InterruptedError } from "../util/errors.js";
import { parseEntry, runnerEntry } from "./entry.js";
import { type JobFiles, localFiles } from "./files.js";
import { watchLocal } from "./local-watch.js";
import { readOutcome, resultForDisplay } from "./outcome.js";
import { jobsDir, newJobId, saveJob } from "./registry.js";
import { emptyTimings, type RunReport, timed } from "./report.js";
import type { JobRecord, JobSpec } from "./types.js";

export interface RunRequest {
  cwd: string;
  entry: string;
  args: Record<string, unknown>;
  scriptArgs: string[];
  target?: string;
  resources: ResourceFlags;
  ray?: boolean;
  env?: Record<string, string>;
  detach: boolean;
  dryRun: boolean;
  signal?: AbortSignal;
  /** Job output as it arrives. */
  onLog?: (text: string) => void;
  /** Progress messages for the human (stderr). */
  onProgress?: (message: string) => void;
}

export interface TargetSession {
  config: LoadedConfig;
  target: ResolvedTarget;
  backend: Backend;
  files: JobFiles;
}

/** Opens the backend for a target. Remote kinds connect lazily, on first use. */
export function openTarget(config: LoadedConfig, name?: string): TargetSession {
  const target = resolveTarget(config, name);
  if (target.config.kind !== "local") {
    throw new InputError(`target ${JSON.stringify(target.name)} is of kind "${target.config.kind}", which this version cannot run yet; use --target local`);
  }
  return { config, target, backend: new LocalBackend(new LocalTransport()), files: localFiles };
}

/** Builds the job record for a local run: the job dir sits under .slurmray/jobs, the code runs in place. */
function localJob(config: LoadedConfig, target: ResolvedTarget, spec: JobSpec, id: string): JobRecord {
  const dir = join(jobsDir(config.root), id);
  return {
    id,
    target: target.name,
    kind: "local",
    project: config.projectName,
    spec,
    state: "SUBMITTING",
    schedulerId: null,
    remoteDir: dir,
    codeDir: config.root,
    python: projectInterpreter(config.root, config.env, config.project.interpreter),
    createdAt: new Date().toISOString(),
    startedAt: null,
    endedAt: null,
    reason: null,
    exitCode: null,
  };
}

/** Waits for a submitted job, records its final state, and reads its result. Shared by run and attach. */
/** `cancelOnInterrupt`: Ctrl-C during `run` cancels the job; during `attach` it only stops watching. */
export async function finishJob(session: TargetSession, job: JobRecord, request: Pick<RunRequest, "onLog" | "signal">, cancelOnInterrupt: boolean) {
  const { config, backend } = session;
  try {
    const status = await watchLocal(backend, job, { onLog: request.onLog, signal: request.signal });
    Object.assign(job, { state: status.state, exitCode: status.exitCode, endedAt: status.endedAt ?? new Date().toISOString(), reason: status.reason });
    saveJob(config.root, job);
    return { status, outcome: await readOutcome(job.remoteDir, (path) => session.files.read(path)) };
  } catch (error) {
    if (request.signal?.aborted && !cancelOnInterrupt) {
      throw new InterruptedError(`Stopped watching; job ${job.id} goes on (slurmray attach ${job.id})`);
    }
    if (request.signal?.aborted) {
      await backend.cancel(job);
      Object.assign(job, { state: "CANCELLED", endedAt: new Date().toISOString(), reason: "interrupted (Ctrl-C)" });
      saveJob(config.root, job);
      throw new InterruptedError(`Interrupted: job ${job.id} was cancelled`);
    }
    throw error;
  }
}

export async function runJob(request: RunRequest): Promise<RunReport> {
  const started = performance.now();
  const timings = emptyTimings();
  const config = loadConfig(request.cwd);
  const session = openTarget(config, request.target);
  const entry = parseEntry(request.entry, request.cwd, config.root);
  if (entry.kind === "script" && Object.keys(request.args).length > 0) {
    throw new InputError(`--args: ${request.entry} is a script; pass its arguments after -- instead`);
  }
  if (entry.kind !== "script" && request.scriptArgs.length > 0) {
    throw new InputError(`arguments after -- are for scripts; ${request.entry} is a function: use --args '{"name": value}'`);
  }
  const resources = resolveResources(session.target.config, request.resources);
  const spec: JobSpec = {
    entry: runnerEntry(entry),
    args: request.args,
    scriptArgs: request.scriptArgs,
    env: request.env ?? {},
    ray: request.ray ?? config.project.ray ?? resources.nodes > 1,
    resources,
  };
  const job = localJob(config, session.target, spec, newJobId());
  const report: RunReport = {
    job_id: job.id,
    target: session.target.name,
    state: "PLANNED",
    result: null,
    error: null,
    env: { created: false, reused: true, installed: [], changed: [], unchanged: null, seconds: 0 },
    code: null,
    timings,
    remote_commands: 0,
    warnings: [],
  };
  if (request.dryRun) {
    report.timings.total = Math.round(performance.now() - started) / 1000;
    return report;
  }
  mkdirSync(job.remoteDir, { recursive: true, mode: 0o700 });
  saveJob(config.root, job);
  job.schedulerId = await timed(timings, "submit", () => session.backend.submit(job));
  Object.assign(job, { state: "RUNNING", startedAt: new Date().toISOString() });
  saveJob(config.root, job);
  request.onProgress?.(`job ${job.id} started on ${session.target.name}`);
  if (request.detach) {
    report.state = job.state;
    report.timings.total = Math.round(performance.now() - started) / 1000;
    return report;
  }
  const { outcome } = await timed(timings, "run", () => finishJob(session, job, request, true));
  report.state = job.state;
  report.result = resultForDisplay(outcome.result);
  report.error = outcome.error;
  report.remote_commands = session.backend.transport.commandCount;
  report.timings.total = Math.round(performance.now() - started) / 1000;
  return report;
}

