// The local target's side of the job watcher (../watch/): the same remote watcher as on Slurm, run through
// the LocalTransport. Its batched status command lists the living process groups (one `ps` for all jobs);
// the local backend then says how a job whose group is gone ended.
import type { JobRecord } from "../../model/job.js";
import type { JobStatus } from "../types.js";
import type { WatchScheduler } from "../watch/types.js";
import { type JobWatcher, sharedWatcher } from "../watch/watcher.js";
import { parseHandle } from "./handle.js";
import type { LocalBackend } from "./index.js";

/** Only to notice a job killed before its runner could write its end; status.json tells a normal end. */
const POLL_EVERY_MS = 1000;

export class LocalScheduler implements WatchScheduler {
  readonly pollEveryMs = POLL_EVERY_MS;

  constructor(private readonly backend: LocalBackend) {}

  pollCommand(): string {
    return "ps -A -o pgid= -o stat=";
  }

  async parsePoll(output: string, exitCode: number, _stderr: string, jobs: readonly JobRecord[]): Promise<Map<string, JobStatus>> {
    if (exitCode !== 0) return new Map();
    const living = new Set<string>();
    for (const line of output.split("\n")) {
      const [group, state] = line.trim().split(/\s+/);
      if (group && state && !state.startsWith("Z")) living.add(group);
    }
    // The handle is "<pgid>:<leader start time>": the group's id is what ps lists.
    return this.backend.poll(jobs.filter((job) => !living.has(String(parseHandle(job.schedulerId ?? "")?.pgid ?? ""))));
  }

  async finalStatus(job: JobRecord): Promise<JobStatus> {
    // The backend also stops whatever the job left running, like Slurm at the end of a job.
    return (await this.backend.poll([job])).get(job.id)!;
  }
}

/** The one watcher of the local target in this process. */
export function localWatcher(backend: LocalBackend): JobWatcher {
  return sharedWatcher(backend.transport, () => new LocalScheduler(backend));
}
