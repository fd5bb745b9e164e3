// Watching a job in ONE streaming remote command (src/remote/slurm_watch.py, sent on stdin): the log from
// a byte offset, squeue changes while it waits, and at the end Slurm's and the runner's final word plus
// result.json / error.json. Lines are handed out only once the offset after them has arrived, so a watch
// cut by a lost connection resumes from that offset with no line lost or repeated.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { JobRecord, RemoteError } from "../../model/job.js";
import { remoteFile } from "../../remote/index.js";
import type { Transport } from "../../transport/types.js";
import { ConnectionError, InputError, RemoteCommandError } from "../../util/errors.js";
import type { JobStatus, QueueUpdate } from "../types.js";
import { expandHostlist } from "./format.js";
import { parseExitCode } from "./states.js";
import { type RunnerStatus, resolveStatus, type SacctRow, type StatusProbe } from "./status.js";

const WATCH_SOURCE = readFileSync(remoteFile("slurm_watch.py"), "utf8");
const CONTROL = /^@@slurmray:(offset|queue|final):(.*)@@$/;

export type { QueueUpdate };

/** What slurm_watch.py prints last. */
export interface FinalSection {
  runner: RunnerStatus | null;
  slurm: { state: string; exit_code: string | null; start: string | null; end: string | null; nodes: string | null } | null;
  sacct_error: string | null;
  result?: unknown;
  error?: RemoteError | null;
}

export type WatchEvent =
  | { kind: "log"; lines: string[]; offset: number }
  | { kind: "queue"; update: QueueUpdate }
  | { kind: "final"; final: FinalSection; offset: number };

export interface ReconnectPolicy {
  /** Attempts after the first failure (default 8: about two minutes with the default delays). */
  attempts?: number;
  /** First delay; doubles up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told about each reconnect, for the user. */
  onReconnect?: (attempt: number, delayMs: number, error: unknown) => void;
}

export interface WatchOptions {
  /** Byte offset in job.log to start from (0, or where an earlier watch stopped). */
  fromOffset?: number;
  /** Also fetch result.json / error.json at the end (the warm-run path). */
  outcome?: boolean;
  signal?: AbortSignal;
  reconnect?: ReconnectPolicy;
}

export interface WatchOutcome {
  status: JobStatus;
  /** result.json's content ({"value": …} or {"pickle", "repr", "type"}), when fetched and present. */
  resultJson: unknown | null;
  errorJson: RemoteError | null;
  logOffset: number;
}

/** The argv of the watch command; its stdin is slurm_watch.py. */
export function watchArgv(job: JobRecord, fromOffset: number, outcome: boolean): string[] {
  if (job.schedulerId === null) throw new InputError(`job ${job.id} has not been submitted to Slurm yet`);
  return [job.python, "-", job.remoteDir, job.schedulerId, String(fromOffset), ...(outcome ? ["--outcome"] : [])];
}

/** A watch cut short (connection lost): where the log stopped, to resume from. */
export class WatchInterrupted extends ConnectionError {
  constructor(
    readonly offset: number,
    cause: unknown,
  ) {
    super(`The connection was lost while watching the job (log at byte ${offset})`, { cause });
  }
}

/** The events of one watch command. Throws WatchInterrupted when the connection drops. */
export async function* watchOnce(transport: Transport, job: JobRecord, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
  let offset = options.fromOffset ?? 0;
  let pending: string[] = [];
  const handle = transport.stream(watchArgv(job, offset, options.outcome ?? false), { stdin: WATCH_SOURCE, signal: options.signal });
  try {
    for await (const line of handle.lines) {
      const control = CONTROL.exec(line);
      if (!control) {
        pending.push(line.startsWith("|") ? line.slice(1) : line);
        continue;
      }
      const [, kind, value] = control as unknown as [string, string, string];
      if (kind === "offset") {
        offset = Number(value);
        if (pending.length > 0) yield { kind: "log", lines: pending, offset };
        pending = [];
      } else if (kind === "queue") yield { kind: "queue", update: JSON.parse(value) as QueueUpdate };
      else {
        yield { kind: "final", final: JSON.parse(value) as FinalSection, offset };
        return;
      }
    }
  } catch (error) {
    if (error instanceof ConnectionError && !options.signal?.aborted) throw new WatchInterrupted(offset, error);
    throw error;
  } finally {
    handle.kill();
  }
  const { code, stderr } = await handle.done;
  throw new RemoteCommandError(`Watching Slurm job ${job.schedulerId}`, "python - (slurm_watch.py)", code, stderr);
}

/**
 * The events of a watch that reconnects with backoff when the connection drops and resumes the log where
 * it stopped. One remote command per connection (plus a connect() per reconnect). Ends after "final".
 */
export async function* watchResuming(transport: Transport, job: JobRecord, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
  const { attempts = 8, baseDelayMs = 1000, maxDelayMs = 20_000, onReconnect } = options.reconnect ?? {};
  let offset = options.fromOffset ?? 0;
  for (let attempt = 0; ; attempt++) {
    try {
      for await (const event of watchOnce(transport, job, { ...options, fromOffset: offset })) {
        if (event.kind !== "queue") offset = event.offset;
        yield event;
        if (event.kind === "final") return;
      }
    } catch (error) {
      if (!(error instanceof WatchInterrupted) || attempt >= attempts) throw error;
      const delayMs = Math.min(baseDelayMs * 2 ** attempt, maxDelayMs);
      onReconnect?.(attempt + 1, delayMs, error.cause);
      await sleep(delayMs, undefined, { signal: options.signal });
      await transport.connect().catch(() => {}); // a failure shows as the next watch's ConnectionError
    }
  }
}

/** The job's status from the watch's final section. */
export function finalStatus(job: JobRecord, final: FinalSection): JobStatus {
  const id = job.schedulerId ?? "";
  const sacct = new Map<string, SacctRow>();
  if (final.slurm) {
    const { state, exit_code, start, end, nodes } = final.slurm;
    sacct.set(id, { slurmState: state, exitCode: exit_code ? parseExitCode(exit_code) : null, start, end, nodes: expandHostlist(nodes ?? "") });
  }
  const probe: StatusProbe = {
    squeue: new Map(),
    positions: new Map(),
    sacct: final.sacct_error ? null : sacct,
    sacctError: final.sacct_error,
    runner: new Map(final.runner ? [[id, final.runner]] : []),
  };
  // The watcher has already waited out sacct's lag: a job nobody knows of now has ended.
  return resolveStatus(job, probe, Number.POSITIVE_INFINITY);
}

/**
 * The warm-run watch: streams the log until the job ends, then returns its status, result.json and
 * error.json — all in one remote command unless the connection drops.
 */
export async function watchUntilDone(
  transport: Transport,
  job: JobRecord,
  options: WatchOptions & { onLine?: (line: string) => void; onQueue?: (update: QueueUpdate) => void } = {},
): Promise<WatchOutcome> {
  for await (const event of watchResuming(transport, job, { outcome: true, ...options })) {
    if (event.kind === "log") for (const line of event.lines) options.onLine?.(line);
    else if (event.kind === "queue") options.onQueue?.(event.update);
    else {
      const { final, offset } = event;
      return { status: finalStatus(job, final), resultJson: final.result ?? null, errorJson: final.error ?? null, logOffset: offset };
    }
  }
  throw new RemoteCommandError(`Watching Slurm job ${job.schedulerId}`, "python - (slurm_watch.py)", 1, "the watch ended without a final state");
}

/**
 * `slurmray logs -f`: batches of log lines from an offset until the job ends, resuming across lost
 * connections. Each batch carries the offset after it: save it to resume later with no line repeated.
 */
export async function* followLog(transport: Transport, job: JobRecord, options: WatchOptions = {}): AsyncGenerator<{ lines: string[]; offset: number }> {
  for await (const event of watchResuming(transport, job, { ...options, outcome: false })) {
    if (event.kind === "log") yield { lines: event.lines, offset: event.offset };
  }
}
