// Watches a job whose files are on this machine: streams new log bytes and polls the backend until the
// job reaches a final state.
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Backend, JobStatus } from "../backends/types.js";
import { jobPaths } from "../backends/types.js";
import { isFinal, type JobRecord } from "./types.js";

const POLL_MS = 150;

/** Reads the log from `offset`, returns the new text and the new offset. Partial UTF-8 sequences wait for the next read. */
export function readLogFrom(path: string, offset: number): { text: string; offset: number } {
  if (!existsSync(path)) return { text: "", offset };
  const fd = openSync(path, "r");
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(1 << 16);
    let position = offset;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
      position += n;
    }
    const bytes = Buffer.concat(chunks);
    const complete = completeUtf8Length(bytes);
    return { text: bytes.subarray(0, complete).toString("utf8"), offset: offset + complete };
  } finally {
    closeSync(fd);
  }
}

/** Length of the longest prefix that does not end inside a multi-byte UTF-8 sequence. */
function completeUtf8Length(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    if (byte >= 0xc0) {
      const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return need > back ? bytes.length - back : bytes.length;
    }
    return bytes.length;
  }
  return bytes.length;
}

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
