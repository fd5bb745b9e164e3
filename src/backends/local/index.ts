// The local target: runs the runner with the project interpreter on this machine, in its own process
// group so that cancel (and Ctrl-C) can stop the job and everything it started.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { TargetConfig } from "../../config/schema.js";
import type { JobRecord, JobSpec, JobState } from "../../model/job.js";
import type { ListedJobs } from "../../model/listed-job.js";
import { runnerSpecJson } from "../../model/runner-spec.js";
import { remoteFile } from "../../remote/index.js";
import type { Transport } from "../../transport/types.js";
import { InputError } from "../../util/errors.js";
import { writeFileAtomic } from "../../util/fs.js";
import { withoutSecrets } from "../../util/secrets.js";
import { localFiles } from "../job-files.js";
import { type ArraySubmission, type Backend, type BackendContext, type JobStatus, jobPaths, neverRetry, type WatchRequest, type WatchResult } from "../types.js";
import { formatHandle, type LocalHandle, parseHandle, processStartTime } from "./handle.js";
import { jobGroupAlive, signalJobGroup } from "./process-group.js";
import { localWatcher } from "./watch.js";

interface RunnerStatus {
  state?: string;
  exit_code?: number;
  started_at?: string;
  ended_at?: string;
}

const RUNNER_FINAL_STATES: readonly string[] = ["COMPLETED", "FAILED", "CANCELLED"];

function readRunnerStatus(dir: string): RunnerStatus | null {
  const path = jobPaths(dir).status;
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as RunnerStatus;
  } catch {
    return null;
  }
}

/** The job's process group, or null when it has none we may signal (not started, or a malformed handle). */
function handleOf(job: JobRecord): LocalHandle | null {
  return job.schedulerId === null ? null : parseHandle(job.schedulerId);
}

/** An array element's dir holds this file once the element is cancelled: the pool then skips it. */
const CANCELLED_MARK = "cancelled";

// The pool: at most $1 runners at once, one per element index, each writing its own dir's job.log.
const POOL = `n=$1 py=$2 runner=$3 base=$4; shift 4
printf '%s\\n' "$@" | xargs -n 1 -P "$n" sh -c 'd="$3/$4"; [ -e "$d/${CANCELLED_MARK}" ] || "$1" -u "$2" "$d" >>"$d/job.log" 2>&1; exit 0' sh "$py" "$runner" "$base"`;

/** An element of a pool: waiting until its runner writes status.json, then as the runner says. */
function elementStatus(job: JobRecord, runner: RunnerStatus | null, poolAlive: boolean, base: Omit<JobStatus, "state">): JobStatus {
  if (runner?.state && RUNNER_FINAL_STATES.includes(runner.state)) return { ...base, state: runner.state as JobState };
  if (existsSync(`${job.remoteDir}/${CANCELLED_MARK}`)) return { ...base, state: "CANCELLED" };
  if (poolAlive) return { ...base, state: runner ? "RUNNING" : "PENDING" };
  return { ...base, state: "FAILED", reason: "the element's process ended without writing a result (was the pool killed?)" };
}

/** Marks the element so the pool skips it, and stops its runner if it has started. */
async function cancelElement(job: JobRecord): Promise<void> {
  writeFileSync(`${job.remoteDir}/${CANCELLED_MARK}`, "");
  const pid = (readRunnerStatus(job.remoteDir) as { pid?: unknown } | null)?.pid;
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 1) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    // already gone
  }
}

/** The grace period between SIGTERM and SIGKILL when cancelling. */
const CANCEL_GRACE_MS = 5000;

/** job.json of a local job: Ray, when asked for, is a local one the runner starts. */
function writeSpec(path: string, job: JobRecord): void {
  writeFileAtomic(path, `${runnerSpecJson(job, job.spec.ray ? { address: "local" } : null)}\n`);
}

export class LocalBackend implements Backend {
  readonly kind = "local" as const;
  readonly files = localFiles;
  readonly limits = null;
  readonly retry = neverRetry;
  constructor(readonly transport: Transport) {}

  async submit(job: JobRecord): Promise<string> {
    const paths = jobPaths(job.remoteDir);
    writeSpec(paths.spec, job);
    const log = openSync(paths.log, "a", 0o600);
    try {
      return await this.spawnGroup(job, ["-u", remoteFile("runner.py"), job.remoteDir], log, job.python);
    } finally {
      closeSync(log);
    }
  }

  /** Starts a detached process group (the runner, or `sh` for a pool) and returns its handle. */
  private async spawnGroup(job: JobRecord, args: string[], output: number | "ignore", command = "sh"): Promise<string> {
    const child = spawn(command, args, {
      cwd: job.codeDir,
      detached: true,
      stdio: ["ignore", output, output],
      env: { ...withoutSecrets(), ...job.spec.env, PYTHONUNBUFFERED: "1", PYTHONIOENCODING: "utf-8" },
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("spawn", () => resolve(child.pid!));
      child.once("error", reject);
    });
    child.unref();
    // The leader's start time, read now while it surely runs: it tells the job's group from a reused pid later.
    return formatHandle(pid, processStartTime(pid) ?? "gone");
  }

  /**
   * A pool of `maxParallel` processes: one detached process group (xargs -P) runs the elements' runners,
   * each in its own dir. Every element's handle is the pool's; poll and cancel tell elements apart by `element`.
   */
  async submitArray(array: JobRecord, elements: readonly JobRecord[], maxParallel: number): Promise<ArraySubmission> {
    for (const element of elements) {
      const paths = jobPaths(element.remoteDir);
      mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
      for (const stale of [paths.resultJson, paths.resultPkl, paths.error, paths.status, `${paths.dir}/${CANCELLED_MARK}`]) rmSync(stale, { force: true });
      writeSpec(paths.spec, element);
    }
    const indices = elements.map((element) => String(element.element));
    const handle = await this.spawnGroup(array, ["-c", POOL, "sh", String(maxParallel), array.python, remoteFile("runner.py"), array.remoteDir, ...indices], "ignore");
    return { schedulerId: handle, elements: new Map(elements.map((element) => [element.element!, handle])) };
  }

  async poll(jobs: readonly JobRecord[]): Promise<Map<string, JobStatus>> {
    const statuses = new Map<string, JobStatus>();
    for (const job of jobs) statuses.set(job.id, this.statusOf(job));
    return statuses;
  }

  /** Through the same one-per-connection watcher as remote kinds, over the local transport. */
  watch(job: JobRecord, request: WatchRequest): Promise<WatchResult> {
    return localWatcher(this).watch(job, request);
  }

  /** Local jobs are this machine's processes: the records say what ran, the process table what still runs. */
  async list(_project: string, records: readonly JobRecord[]): Promise<ListedJobs> {
    const statuses = await this.poll(records);
    const jobs = records.flatMap((job) => {
      const status = statuses.get(job.id)!;
      if (job.schedulerId === null) return [];
      const started = status.startedAt ? Date.parse(status.startedAt) : Number.NaN;
      const ended = status.endedAt ? Date.parse(status.endedAt) : Date.now();
      const elapsedSeconds = Number.isNaN(started) ? null : Math.max(0, Math.round((ended - started) / 1000));
      return [{ schedulerId: job.schedulerId, jobId: job.id, state: status.state, schedulerState: status.state, elapsedSeconds, nodes: ["localhost"], gpus: 0, cpuEfficiency: null, maxRssBytes: null }];
    });
    return { jobs, sacctError: null };
  }

  /** This machine: the registry's records, checked against the process table, are the answer. */
  liveJobsCommand(): null {
    return null;
  }

  private statusOf(job: JobRecord): JobStatus {
    const runner = readRunnerStatus(job.remoteDir);
    const group = handleOf(job);
    const alive = group !== null && jobGroupAlive(group);
    const base = { reason: null, exitCode: runner?.exit_code ?? null, startedAt: runner?.started_at ?? job.startedAt, endedAt: runner?.ended_at ?? null, nodes: null };
    if (job.state === "CANCELLED") return { ...base, state: "CANCELLED" };
    if (job.element !== undefined) return elementStatus(job, runner, alive, base);
    if (runner?.state && RUNNER_FINAL_STATES.includes(runner.state)) {
      // Like Slurm at the end of a job: whatever the function started and left running is stopped,
      // so a finished job never leaves a process behind.
      if (alive) signalJobGroup(group, "SIGKILL");
      return { ...base, state: runner.state as JobState };
    }
    if (alive) return { ...base, state: "RUNNING" };
    return { ...base, state: "FAILED", reason: "the job's process ended without writing a result (was it killed?)" };
  }

  async cancel(job: JobRecord): Promise<void> {
    const group = handleOf(job);
    if (group === null) return;
    if (job.element !== undefined) return cancelElement(job);
    signalJobGroup(group, "SIGTERM");
    const deadline = Date.now() + CANCEL_GRACE_MS;
    while (jobGroupAlive(group) && Date.now() < deadline) await sleep(50);
    if (jobGroupAlive(group)) {
      signalJobGroup(group, "SIGKILL");
      while (jobGroupAlive(group)) await sleep(50);
    }
  }
}

/** The local target is this one machine. */
export function checkLocalJob(_target: TargetConfig, spec: JobSpec): void {
  if (spec.resources.nodes > 1) {
    throw new InputError(`--nodes ${spec.resources.nodes}: the local target is this one machine; use a slurm target for several nodes`);
  }
}

/** The backend of the local target (registered in ../registry.ts). */
export function createLocalBackend(context: BackendContext): LocalBackend {
  return new LocalBackend(context.transport);
}
