// One started command, whatever carries it (a local process, an ssh mux client, an ssh2 channel),
// and the exec/stream plumbing written once on top of it.
import { createInterface } from "node:readline";
import { PassThrough, Readable, type Writable } from "node:stream";
import { collectBounded } from "../util/bounded-text.js";
import { ConnectionError, RemoteCommandError } from "../util/errors.js";
import type { ExecOptions, ExecResult, StreamHandle } from "./types.js";

export interface RunningCommand {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The exit code, once all output has been read. Rejects with a ConnectionError when the connection is lost. */
  readonly finished: Promise<number>;
  /** Stops the command (its `finished` then settles). */
  kill(): void;
}

export type CommandStarter = (command: string) => Promise<RunningCommand>;

function feedStdin(stdin: Writable, input: ExecOptions["stdin"]): void {
  // The command may exit without reading all its input: that is its business, not an error here.
  stdin.on("error", () => {});
  if (input instanceof Readable) input.pipe(stdin);
  else stdin.end(input ?? "");
}

/**
 * More than any reply slurmray reads whole (probes, listings, a store's missing keys): a target printing
 * without end is stopped here, with a clear error, long before the text could pass V8's longest string.
 * Large files travel through ExecOptions.stdout sinks instead.
 */
export const STDOUT_MAX = 128 * 1024 * 1024;

/** Collects a stream's bytes up to `max`; past it, stops keeping them and calls `overflow` once. */
function collect(stream: Readable, max: number, overflow: () => void): () => string {
  const chunks: Buffer[] = [];
  let kept = 0;
  stream.on("data", (chunk: Buffer) => {
    if (kept > max) return;
    kept += chunk.length;
    if (kept > max) overflow();
    else chunks.push(chunk);
  });
  return () => Buffer.concat(chunks).toString("utf8");
}

/** Runs one command to completion, honouring stdin/stdout/signal/timeoutMs of ExecOptions. */
export async function runCommand(
  start: CommandStarter,
  command: string,
  options: ExecOptions = {},
  onStarted?: (running: RunningCommand) => void,
): Promise<ExecResult> {
  const { signal, timeoutMs } = options;
  signal?.throwIfAborted();
  const running = await start(command);
  onStarted?.(running);
  feedStdin(running.stdin, options.stdin);
  let overflowed = false;
  const stdout = options.stdout
    ? null
    : collect(running.stdout, STDOUT_MAX, () => {
        overflowed = true;
        running.kill();
      });
  if (options.stdout) running.stdout.pipe(options.stdout);
  const stderr = collectBounded(running.stderr);
  if (options.stderr) running.stderr.pipe(options.stderr);

  let timedOut = false;
  const onAbort = () => running.kill();
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          running.kill();
        }, timeoutMs);
  try {
    const code = await running.finished;
    signal?.throwIfAborted();
    if (overflowed) {
      throw new RemoteCommandError("Reading a remote command's reply", command, code, `it printed more than ${STDOUT_MAX} bytes, more than any reply slurmray reads; it was stopped`);
    }
    if (timedOut) {
      throw new ConnectionError(`The remote command did not finish within ${timeoutMs} ms: ${command}`);
    }
    return { code, stdout: stdout ? stdout() : "", stderr: stderr() };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** Runs one command and yields its stdout line by line; the iteration throws if the command's connection fails. */
export function streamCommand(
  start: CommandStarter,
  command: string,
  options: Omit<ExecOptions, "stdout"> = {},
): StreamHandle {
  const out = new PassThrough();
  let running: RunningCommand | undefined;
  let killed = false;
  const done = runCommand(start, command, { ...options, stdout: out }, (r) => {
    running = r;
    if (killed) r.kill();
  });
  // A failure must end the line iteration too, not leave it waiting for output that never comes.
  done.catch(() => {}).finally(() => out.end());
  async function* lines(): AsyncGenerator<string> {
    for await (const line of createInterface({ input: out, crlfDelay: Number.POSITIVE_INFINITY })) yield line;
    await done;
  }
  return {
    lines: lines(),
    done,
    kill() {
      killed = true;
      running?.kill();
    },
  };
}
