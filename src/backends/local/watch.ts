// Watches a job whose files are on this machine: streams new log bytes and polls the backend until the
// job reaches a final state.
import { setTimeout as sleep } from "node:timers/promises";
import { isFinal, type JobRecord } from "../../model/job.js";
import { readLogFrom } from "../job-files.js";
import { type Backend, type JobStatus, jobPaths } from "../types.js";

const POLL_MS = 150;

export interface WatchOptions {
  onLog?: (text: string) => void;
  signal?: AbortSignal;
  /** Where the log was already read up to (attach after a restart starts at 0). */
  fromOffset?: number;
}

export async function watchLocal(backend: Backend, job: JobRecord, options: WatchOptions): Promise<JobStatus> {
  const log = jobPaths(job.remoteDir).log;
  let offset = options.fromOffset ?? 0;
  const flush = () => {
    const next = readLogFrom(log, offset);
    offset = next.offset;
    if (next.text) options.onLog?.(next.text);
  };
  for (;;) {
    options.signal?.throwIfAborted();
    const status = (await backend.poll([job])).get(job.id)!;
    flush();
    if (isFinal(status.state)) return status;
    await sleep(POLL_MS, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
