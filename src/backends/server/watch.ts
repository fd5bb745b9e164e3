// The server side of the job watcher (../watch/): ONE queue.py poll for all watched jobs, plus the queue's
// list, so a waiting job's update says what runs now (user, CPUs, memory, GPUs, since when).
import type { JobRecord } from "../../model/job.js";
import type { JobStatus } from "../types.js";
import type { RunnerStatus, WatchScheduler } from "../watch/types.js";
import { type JobWatcher, sharedWatcher } from "../watch/watcher.js";
import type { ServerBackend } from "./index.js";
import { iso, parseJobs, parseReply, type QueueJob, queueStatus } from "./queue-cli.js";

/** queue.py reads small files under a lock: cheap, but a few times a second is plenty. */
const POLL_EVERY_MS = 1000;
const SEPARATOR = "@@slurmray:queue-list@@";

function clock(seconds: number | null): string {
  return iso(seconds)?.slice(11, 16) ?? "?";
}

/** "alice: 4 CPUs, 16 GB, GPUs 0,1, since 14:02; bob: …" */
export function runningNow(jobs: readonly QueueJob[]): string {
  const running = jobs.filter((j) => j.state === "RUNNING");
  if (running.length === 0) return "nothing runs now";
  return `running now: ${running.map((j) => `${j.user}: ${j.cpus} CPUs, ${j.mem} GB${j.gpuIds.length ? `, GPUs ${j.gpuIds.join(",")}` : ""}, since ${clock(j.started)}`).join("; ")}`;
}

export class ServerScheduler implements WatchScheduler {
  readonly pollEveryMs = POLL_EVERY_MS;
  constructor(private readonly backend: ServerBackend) {}

  pollCommand(jobs: readonly JobRecord[]): string {
    const ids = jobs.map((j) => j.schedulerId ?? "").filter((id) => id !== "");
    return `${this.backend.command("poll", ids)}; echo '${SEPARATOR}'; ${this.backend.command("list")}`;
  }

  async parsePoll(output: string, exitCode: number, stderr: string, jobs: readonly JobRecord[]): Promise<Map<string, JobStatus>> {
    const [pollText = "", listText = ""] = output.split(`${SEPARATOR}\n`);
    const polled = parseJobs(parseReply("Asking the server's queue", "queue.py poll", exitCode, pollText, stderr));
    let others = "";
    try {
      others = runningNow(parseJobs(parseReply("Listing the server's queue", "queue.py list", 0, listText, stderr)));
    } catch {
      others = "";
    }
    const byId = new Map(polled.map((entry) => [entry.id, entry]));
    return new Map(
      jobs.map((job) => {
        const status = queueStatus(job, job.schedulerId ? byId.get(job.schedulerId) : undefined);
        if (status.state === "PENDING" && others) status.reason = `${status.reason}; ${others}`;
        return [job.id, status];
      }),
    );
  }

  /**
   * The runner's word on a normal end (no extra command); when the job was stopped (the runner saw a signal,
   * or wrote nothing) the queue says why: TIMEOUT, OUT_OF_MEMORY or CANCELLED.
   */
  async finalStatus(job: JobRecord, runner: RunnerStatus | null, polled: JobStatus | null): Promise<JobStatus> {
    const normalEnd = runner?.state === "COMPLETED" || runner?.state === "FAILED";
    const queue = normalEnd ? polled : ((await this.backend.poll([job]).catch(() => null))?.get(job.id) ?? polled);
    if (queue && ["TIMEOUT", "OUT_OF_MEMORY", "CANCELLED"].includes(queue.state)) return queue;
    const state = runner?.state === "COMPLETED" ? "COMPLETED" : runner?.state === "CANCELLED" ? "CANCELLED" : "FAILED";
    return { state, reason: queue?.reason ?? null, exitCode: runner?.exit_code ?? queue?.exitCode ?? null, startedAt: runner?.started_at ?? queue?.startedAt ?? null, endedAt: runner?.ended_at ?? queue?.endedAt ?? null, nodes: null };
  }
}

/** The one watcher of this connection. */
export function serverWatcher(backend: ServerBackend): JobWatcher {
  return sharedWatcher(backend.transport, () => new ServerScheduler(backend));
}
