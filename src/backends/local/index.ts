// The local target: runs the runner with the project interpreter on this machine, in its own process
// group so that cancel (and Ctrl-C) can stop the job and everything it started.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { TargetConfig } from "../../config/schema.js";
import type { JobRecord, JobSpec, JobState } from "../../model/job.js";
import type { ListedJobs } from "../../model/listed-job.js";
import { runnerSpec } from "../../model/runner-spec.js";
import { remoteFile } from "../../remote/index.js";
import type { Transport } from "../../transport/types.js";
import { InputError } from "../../util/errors.js";
import { writeJsonAtomic } from "../../util/fs.js";
import { withoutSecrets } from "../../util/secrets.js";
import { localFiles } from "../job-files.js";
import { type Backend, type BackendContext, type JobStatus, jobPaths, neverRetry, type WatchRequest, type WatchResult } from "../types.js";
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

/** The grace period between SIGTERM and SIGKILL when cancelling. */
const CANCEL_GRACE_MS = 5000;

export class LocalBackend implements Backend {
  readonly kind = "local" as const;
  readonly files = localFiles;
  readonly limits = null;
  readonly retry = neverRetry;
  constructor(readonly transport: Transport) {}

  async submit(job: JobRecord): Promise<string> {
    const paths = jobPaths(job.remoteDir);
    writeJsonAtomic(paths.spec, runnerSpec(job, job.spec.ray ? { address: "local" } : null));
    const log = openSync(paths.log, "a", 0o600);
    try {
      const child = spawn(job.python, ["-u", remoteFile("runner.py"), job.remoteDir], {
        cwd: job.codeDir,
        detached: true,
        stdio: ["ignore", log, log],
        env: { ...withoutSecrets(), ...job.spec.env, PYTHONUNBUFFERED: "1", PYTHONIOENCODING: "utf-8" },
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once("spawn", () => resolve(child.pid!));
        child.once("error", reject);
      });
      child.unref();
      // The leader's start time, read now while it surely runs: it tells the job's group from a reused pid later.
      return formatHandle(pid, processStartTime(pid) ?? "gone");
    } finally {
      closeSync(log);
    }
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
