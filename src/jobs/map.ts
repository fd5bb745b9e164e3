// Job arrays (`slurmray map`, Cluster.map): one entry run once per argument set. The whole array costs one
// code sync, one env sync and ONE submission (backend.submitArray). On a remote target every active element is
// followed through the connection's one watcher (state only, jobs/live.ts: one long-running command whatever
// the number of elements and the run time); on this machine's target one batched in-process poll per tick.
// Each element's result and error come back through that watch; what the elements wrote under outputs/ comes
// back in one more command, only when some element wrote any. A failed element is reported with its index and
// traceback and affects no other; `retryFailed` submits the failed ones again.
import { setMaxListeners } from "node:events";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type LoadedConfig, loadConfig } from "../config/load.js";
import { isFinal, type JobRecord, type JobState, type RemoteError } from "../model/job.js";
import { type ArgsJson, NO_ARGS } from "../model/job-args.js";
import type { OutputsResult } from "../codesync/outputs.js";
import { completedResult, type Outcome, type PrintableResult, readOutcome, resultToPrint } from "../model/outcome.js";
import { InputError, InterruptedError } from "../util/errors.js";
import { takePidLock } from "../util/pid-lock.js";
import { absorbElement, activeElements, elementRecord } from "./array-record.js";
import type { ConnectOptions } from "./connect.js";
import { parseEntry } from "./entry.js";
import { followState, type StatusFields, statusFields } from "./follow.js";
import { claimEnv, findJob, jobsDir, saveArray } from "./registry.js";
import { fetchArrayOutputs, type PreparedRemote, pinPrepared, prepareLocal, prepareRemote } from "./remote-run.js";
import { emptyTimings, type RunReport, type StepObserver, type Timings, timed } from "./report.js";
import { finishReport, newReport, prepareJob, type RunRequest, submit } from "./run.js";
import { openTarget, type TargetSession } from "./session.js";

/** Slurm's default MaxArraySize is 1001 (indices 0–1000). */
export const MAX_ELEMENTS = 1000;

/** Between two polls of a local array's elements (in this process: no command). */
const LOCAL_POLL_MS = 100;
/** Changes arriving together (a wave of elements ending) are saved in one write of the record. */
const SAVE_DELAY_MS = 50;
/** At most one progress line a second: a large array changes all the time. */
const PROGRESS_EVERY_MS = 1000;

export interface MapRequest extends Omit<RunRequest, "args" | "scriptArgs" | "detach" | "onLog"> {
  /** One object of keyword arguments per element, in order, each as JSON text (model/job-args.ts). */
  argsList: ArgsJson[];
  /** At most this many elements run at once (default: all). */
  maxParallel?: number;
  detach?: boolean;
}

export interface ElementOutcome {
  index: number;
  /** "<job id>_<index>": how status, logs, result and cancel address it. */
  id: string;
  state: JobState;
  /** The value's JSON text as Python wrote it (printed as it is; the API parses it), or the pickle's description. */
  result: PrintableResult;
  error: RemoteError | null;
  /** Why it ended so, when the scheduler or the runner said (a killed element has no error.json). */
  reason: string | null;
}

export interface MapReport extends Omit<RunReport, "result" | "error"> {
  elements: ElementOutcome[];
}

/** What the watch brought back of the elements that ended while watched, by index. */
interface Watched {
  outcomes: Map<number, Outcome>;
  /** Files each left in its outputs folder, as its runner counted them (null: not known). */
  outputs: Map<number, number | null>;
}

/** The local target's poll brings nothing back: outcomes are read from the element dirs. */
const unwatched = (): Watched => ({ outcomes: new Map(), outputs: new Map() });

/** Who is told what while an array is submitted and watched. */
type Observers = Pick<RunRequest, "signal" | "onProgress" | "onStep">;

/** The number of argument sets, checked (each set was checked where it was read: argsText, argsFromValues). */
export function checkArgsCount(argsList: readonly ArgsJson[], source: string): void {
  if (argsList.length === 0) throw new InputError(`${source}: expected at least one element (one JSON object of keyword arguments per line)`);
  if (argsList.length > MAX_ELEMENTS) throw new InputError(`${source}: ${argsList.length} elements; an array holds at most ${MAX_ELEMENTS}: split it in several maps`);
}

export function checkMaxParallel(value: number | undefined, size: number): number {
  if (value === undefined) return size;
  if (!Number.isSafeInteger(value) || value < 1) throw new InputError(`--max-parallel: expected a whole number of 1 or more, got ${value}`);
  return Math.min(value, size);
}

/** The elements `indices` of the array go in, in ONE submission; they are recorded PENDING with their handles. */
async function submitElements(session: TargetSession, job: JobRecord, indices: readonly number[], timings: Timings, onStep?: StepObserver): Promise<void> {
  const { backend, config } = session;
  if (!backend.submitArray) throw new InputError(`target ${session.target.name} (${backend.kind}) cannot run job arrays yet; use a slurm or the local target`);
  const elements = indices.map((index) => elementRecord(job, index));
  for (const element of elements) Object.assign(element, { state: "SUBMITTING", schedulerId: null, startedAt: null, endedAt: null, reason: null, exitCode: null });
  for (const element of elements) absorbElement(job, element);
  onStep?.({ step: "submit", phase: "start", text: `submitting ${indices.length} element(s) of job ${job.id} to ${session.target.name}` });
  try {
    const submission = await submit(session, job, timings, () => backend.submitArray!(job, elements, job.array!.maxParallel));
    job.schedulerId = submission.schedulerId;
    for (const element of elements) Object.assign(element, { state: "PENDING", schedulerId: submission.elements.get(element.element!) ?? null });
  } catch (error) {
    for (const element of elements) Object.assign(element, { state: "FAILED", endedAt: new Date().toISOString(), reason: job.reason ?? "submission failed" });
    throw error;
  } finally {
    for (const element of elements) absorbElement(job, element);
    saveArray(config.root, job);
  }
  // Elements cancelled from another shell while they were being submitted (no handle to cancel then) are
  // cancelled now: the whole array in one call when all of them were.
  const cancelled = indices.map((index) => elementRecord(job, index)).filter((element) => element.state === "CANCELLED" && element.schedulerId !== null);
  for (const record of cancelled.length === indices.length && job.schedulerId !== null ? [job] : cancelled) await backend.cancel(record);
  onStep?.({ step: "queue_wait", phase: "start", text: `job ${job.id}: ${indices.length} element(s) submitted as ${backend.kind} job ${job.schedulerId}` });
}

function describeProgress(job: JobRecord): string {
  const counts = new Map<string, number>();
  for (const element of job.array!.elements) counts.set(element.state, (counts.get(element.state) ?? 0) + 1);
  return `job ${job.id}: ${[...counts].map(([state, n]) => `${n} ${state.toLowerCase()}`).join(", ")} of ${job.array!.elements.length}`;
}

/** Saves an array's record as its elements change (a burst in one write) and tells its progress, a line a second at most. */
class ArrayProgress {
  #dirty = false;
  #shown = "";
  #shownAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly session: TargetSession,
    private readonly job: JobRecord,
    private readonly onStep?: StepObserver,
  ) {}

  changed(): void {
    this.#dirty = true;
    this.#later(SAVE_DELAY_MS);
  }

  /** The last changes saved; no line (the caller tells the end). */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#save();
  }

  #later(ms: number): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.#flush();
    }, ms);
  }

  #save(): void {
    if (this.#dirty) saveArray(this.session.config.root, this.job);
    this.#dirty = false;
  }

  #flush(): void {
    this.#save();
    const text = describeProgress(this.job);
    if (text === this.#shown) return;
    const wait = this.#shownAt + PROGRESS_EVERY_MS - performance.now();
    if (wait > 0) {
      this.#later(wait); // shown then, as it is by then
      return;
    }
    this.onStep?.({ step: this.job.state === "PENDING" ? "queue_wait" : "run", phase: "update", text });
    this.#shown = text;
    this.#shownAt = performance.now();
  }
}

/**
 * Writes what was learnt of element `index` into the array's record; says whether anything changed. An element
 * already ended (a cancel) is left as it is, and a running one keeps the start first seen (its end brings the
 * runner's own start time).
 */
function updateElement(job: JobRecord, index: number, fields: Partial<StatusFields>): boolean {
  const element = elementRecord(job, index);
  if (isFinal(element.state)) return false;
  const before = JSON.stringify(job.array!.elements[index]);
  const start = fields.state === "RUNNING" && element.startedAt !== null ? { startedAt: element.startedAt } : {};
  Object.assign(element, fields, start);
  absorbElement(job, element);
  return JSON.stringify(job.array!.elements[index]) !== before;
}

/** Remote: every active element through the connection's one watcher, at once. One failure stops the others. */
async function followElements(session: TargetSession, job: JobRecord, progress: ArrayProgress, signal?: AbortSignal): Promise<Watched> {
  const active = activeElements(job);
  const stop = new AbortController();
  const stopped = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  setMaxListeners(active.length + 1, stopped); // each element's watch listens to it
  const update = (index: number, fields: Partial<StatusFields>) => {
    if (updateElement(job, index, fields)) progress.changed();
  };
  const failures: unknown[] = [];
  const watched: Watched = { outcomes: new Map(), outputs: new Map() };
  await Promise.all(
    active.map(async (element) => {
      const index = element.element!;
      try {
        const end = await followState(session, element, stopped, (fields) => update(index, fields), true);
        update(index, end.fields);
        if (end.outcome) watched.outcomes.set(index, end.outcome);
        watched.outputs.set(index, end.outputs);
      } catch (error) {
        failures.push(error);
        stop.abort();
      }
    }),
  );
  if (failures.length > 0) throw failures[0];
  return watched;
}

/** This machine: one batched poll of the active elements per tick, in this process (as jobs/live.ts does). */
async function pollElements(session: TargetSession, job: JobRecord, progress: ArrayProgress, signal?: AbortSignal): Promise<Watched> {
  for (;;) {
    const active = activeElements(job);
    if (active.length === 0) return unwatched();
    const statuses = await session.backend.poll(active);
    for (const element of active) {
      const status = statuses.get(element.id);
      if (status && updateElement(job, element.element!, statusFields(status))) progress.changed();
    }
    if (activeElements(job).length === 0) return unwatched();
    await sleep(LOCAL_POLL_MS, undefined, { signal });
  }
}

/**
 * Follows every active element until all have ended; the array's record follows. Returns what the watch brought
 * back: on a remote target, of every element that ended while watched.
 */
async function watchArray(session: TargetSession, job: JobRecord, observers: Observers): Promise<Watched> {
  const progress = new ArrayProgress(session, job, observers.onStep);
  try {
    return await (session.layout ? followElements : pollElements)(session, job, progress, observers.signal);
  } finally {
    progress.close();
  }
}

/**
 * Every element's outcome, in input order: those in `known` (brought back by the watch) as they are, the
 * others' result.json and error.json in ONE read (none when the watch brought them all).
 */
export async function arrayOutcomes(session: TargetSession, job: JobRecord, known: ReadonlyMap<number, Outcome> = new Map()): Promise<ElementOutcome[]> {
  const elements = job.array!.elements.map((_, index) => elementRecord(job, index));
  const unread = elements.filter((element) => !known.has(element.element!));
  const paths = unread.flatMap((element) => [`${element.remoteDir}/result.json`, `${element.remoteDir}/error.json`]);
  const texts = paths.length > 0 ? await session.files.readMany(paths) : [];
  const byPath = new Map(paths.map((path, i) => [path, texts[i] ?? null]));
  return Promise.all(
    elements.map(async (element) =>
      outcomeOf(element, known.get(element.element!) ?? (await readOutcome(element.remoteDir, async (path) => byPath.get(path) ?? null))),
    ),
  );
}

/** An element's outcome; `outcome` null while it has none to read. */
function outcomeOf(element: JobRecord, outcome: Outcome | null): ElementOutcome {
  const result = resultToPrint(outcome && element.state === "COMPLETED" ? completedResult(element.id, element.remoteDir, outcome) : (outcome?.result ?? null));
  return { index: element.element!, id: element.id, state: element.state, result, error: outcome?.error ?? null, reason: element.reason };
}

/**
 * Waits for an array's elements to end and reads all their outcomes. Ctrl-C (the signal) cancels the array
 * when `cancelOnInterrupt` (map), else only stops watching (attach). With `bringOutputs` (map, attach), what
 * the elements wrote under outputs/ comes back into .slurmray/jobs/<id>/<index>/outputs, in one command.
 */
export async function finishArray(
  session: TargetSession,
  job: JobRecord,
  observers: Observers,
  cancelOnInterrupt: boolean,
  timings: Timings = emptyTimings(),
  bringOutputs = false,
): Promise<{ elements: ElementOutcome[]; outputs: OutputsResult | null }> {
  let watched: Watched;
  try {
    watched = await watchArray(session, job, observers);
  } catch (error) {
    if (!observers.signal?.aborted) throw error;
    if (!cancelOnInterrupt) throw new InterruptedError(`Stopped watching; job ${job.id} goes on (slurmray attach ${job.id})`);
    observers.onProgress?.(`cancelling job ${job.id}…`);
    await cancelArray(session, job, "interrupted (Ctrl-C)");
    throw new InterruptedError(`Interrupted: job ${job.id} was cancelled`);
  }
  observers.onStep?.({ step: "run", phase: "end", text: describeProgress(job), failed: job.state !== "COMPLETED" });
  observers.onStep?.({ step: "fetch", phase: "start", text: `reading the results of ${job.array!.elements.length} element(s)` });
  const outcomes = await timed(timings, "fetch", () => arrayOutcomes(session, job, watched.outcomes));
  observers.onStep?.({ step: "fetch", phase: "end", text: `read the results of ${outcomes.length} element(s)` });
  // A runner that counted no outputs costs no command; one not watched (ended before an attach) may have some.
  const writers = session.layout && bringOutputs ? job.array!.elements.flatMap((_, index) => (watched.outputs.get(index) === 0 ? [] : [index])) : [];
  if (writers.length === 0) return { elements: outcomes, outputs: null };
  const outputs = await timed(timings, "fetch", () => fetchArrayOutputs(session, job, writers, observers.onProgress));
  observers.onProgress?.(`outputs of job ${job.id}: ${outputs.dir}/<index>/outputs (${outputs.files} file(s) brought back)`);
  return { elements: outcomes, outputs };
}

/** Cancels every element still active (one scheduler call for the whole array) and records them CANCELLED. */
export async function cancelArray(session: TargetSession, job: JobRecord, reason: string): Promise<void> {
  await session.backend.cancel(job);
  // What ended meanwhile on disk (an element's end another command recorded) keeps its end.
  saveArray(session.config.root, job, () => {
    for (const element of activeElements(job)) {
      Object.assign(element, { state: "CANCELLED", endedAt: new Date().toISOString(), reason });
      absorbElement(job, element);
    }
  });
}

function mapReport(report: RunReport, job: JobRecord, elements: ElementOutcome[]): MapReport {
  const { result: _result, error: _error, ...rest } = report;
  return { ...rest, state: job.state, elements };
}

/** `slurmray map` and Cluster.map: the array prepared like a run, submitted once, watched to its end. */
export async function mapJob(request: MapRequest): Promise<MapReport> {
  const argsList = request.argsList;
  checkArgsCount(argsList, "the argument list");
  const maxParallel = checkMaxParallel(request.maxParallel, argsList.length);
  const config = loadConfig(request.cwd);
  if (parseEntry(request.entry, request.cwd, config.root).kind === "script") {
    throw new InputError(`map: ${request.entry} is a script; map runs a function (path/to/file.py:function) once per argument set`);
  }
  const detach = request.detach ?? false;
  const { session, job, timings, finish, releaseClaim } = await prepareJob({ ...request, args: NO_ARGS, argSets: argsList, scriptArgs: [], detach });
  if (request.dryRun) return mapReport(await finish(), job, []);
  const elements = argsList.map((args) => ({ args, state: "SUBMITTING" as const, schedulerId: null, startedAt: null, endedAt: null, reason: null, exitCode: null }));
  job.array = { maxParallel, elements };
  try {
    await submitElements(session, job, elements.map((_, index) => index), timings, request.onStep);
  } finally {
    releaseClaim();
  }
  if (detach) return mapReport(await finish(), job, job.array.elements.map((_, index) => outcomeOf(elementRecord(job, index), null)));
  return runArray(session, job, timings, finish, request);
}

async function runArray(session: TargetSession, job: JobRecord, timings: Timings, finish: () => Promise<RunReport>, observers: Observers): Promise<MapReport> {
  const runStart = performance.now();
  const { elements, outputs } = await finishArray(session, job, observers, true, timings, true);
  timings.run = Math.round(performance.now() - runStart) / 1000 - timings.fetch;
  const report = await finish();
  if (outputs) report.outputs = outputs;
  return mapReport(report, job, elements);
}

export interface RetryRequest extends Observers {
  cwd: string;
  /** The array's id (or a unique prefix). */
  job: string;
  connect?: ConnectOptions;
  onWarning?: (message: string) => void;
}

/** `slurmray map --retry-failed JOB`: the elements that did not complete go in again, after a code and env sync. */
export async function retryFailed(request: RetryRequest): Promise<MapReport> {
  const started = performance.now();
  const config = loadConfig(request.cwd);
  const { id, array } = findJob(config.root, request.job);
  if (!array) throw new InputError(`job ${id} is not an array (slurmray map); run it again with slurmray run`);
  // Two retries of one array at once would submit its failed elements twice, each record keeping one set of ids.
  const release = takePidLock(join(jobsDir(config.root), `${id}.retrying`), `a retry of job ${id}`);
  try {
    // Read again under the lock: a retry that just ended has written the ids of what it submitted.
    return await retryElements(request, config, findJob(config.root, id), started);
  } finally {
    release();
  }
}

async function retryElements(request: RetryRequest, config: LoadedConfig, job: JobRecord, started: number): Promise<MapReport> {
  const session = await openTarget(config, job.target, request.connect);
  await watchArray(session, job, { signal: request.signal });
  const failed = job.array!.elements.flatMap((element, index) => (element.state === "COMPLETED" ? [] : [index]));
  if (failed.length === 0) throw new InputError(`every element of job ${job.id} completed; there is nothing to retry`);
  const timings = emptyTimings();
  const report = newReport(session, job, timings);
  const warn = (warning: string) => {
    report.warnings.push(warning);
    request.onWarning?.(warning);
  };
  // The fix is shipped: code and env are synced again, and the retried elements run from the new code tree.
  const releaseClaim = session.layout ? claimEnv(config.root, job.id) : () => {};
  let prepared: PreparedRemote;
  try {
    prepared = session.layout
      ? await prepareRemote(session, job, report, warn, false, request.signal, request.onStep)
      : await prepareLocal(session, job, report, warn, false);
    pinPrepared(job, prepared);
    request.onProgress?.(`retrying element(s) ${failed.join(", ")} of job ${job.id}`);
    await submitElements(session, job, failed, timings, request.onStep);
  } finally {
    releaseClaim();
  }
  const finish = () => finishReport(session, report, started, prepared.background);
  return runArray(session, job, timings, finish, request);
}
