// The Transport interface: how commands and bytes reach a target. envsync, codesync and the backends
// speak only this, so the local transport tests them cheaply and the real sshd tests them for real.
import type { Readable, Writable } from "node:stream";

export type TransportKind = "openssh" | "ssh2" | "local";

export interface ExecOptions {
  /** Bytes for the command's standard input (closed after). */
  stdin?: string | Buffer | Readable;
  /** When set, stdout is piped here instead of being collected (ExecResult.stdout is then ""). */
  stdout?: Writable;
  /** When set, stderr is also piped here as it arrives (ExecResult.stderr still holds all of it). */
  stderr?: Writable;
  /** Aborting kills the remote command (and, for ssh, the channel). */
  signal?: AbortSignal;
  /** Fail with a ConnectionError when the command has not finished after this long. */
  timeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface StreamHandle {
  /** stdout, split into lines (without the newline), as they arrive. */
  lines: AsyncIterable<string>;
  /** Resolves when the command ends; stdout is "" (it went to `lines`). */
  done: Promise<ExecResult>;
  /** Stops the command. */
  kill(): void;
}

export interface Forward {
  localPort: number;
  close(): Promise<void>;
}

export interface Transport {
  readonly kind: TransportKind;
  /** Human description for messages: "alice@login.example:22" or "local". */
  readonly description: string;
  /** Opens (or checks) the connection; authentication happens here, once. Throws ConnectionError / HostKeyError. */
  connect(): Promise<void>;
  /** Runs argv (quoted with util/shell) through the remote login shell. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Runs a POSIX sh script, sent on stdin to `sh -s` with the given positional arguments. */
  script(script: string, args?: readonly string[], options?: Omit<ExecOptions, "stdin">): Promise<ExecResult>;
  /** Runs argv and yields stdout line by line. */
  stream(argv: readonly string[], options?: Omit<ExecOptions, "stdout">): StreamHandle;
  /** Opens a local TCP port forwarded to remoteHost:remotePort on the target. */
  forward(remoteHost: string, remotePort: number): Promise<Forward>;
  /** Number of remote commands run so far (exec + script + stream), for `remote_commands` in --json. */
  readonly commandCount: number;
  /** Closes the connection (the ControlMaster stays up for its ControlPersist time). */
  close(): Promise<void>;
}
