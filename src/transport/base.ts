// The part every transport shares: argv quoting, script/stream on top of one "start a command line"
// primitive, the command counter, and stopping what is still running on close().
import { quoteArgv } from "../util/shell.js";
import { type RunningCommand, runCommand, streamCommand } from "./running.js";
import type { ExecOptions, ExecResult, Forward, StreamHandle, Transport, TransportKind } from "./types.js";

/** What `--verbose` shows of each remote command: its command line, exit code (null: lost) and duration. */
export interface CommandEvent {
  command: string;
  code: number | null;
  ms: number;
}

let commandObserver: ((event: CommandEvent) => void) | undefined;

/** Reports every command any transport of this process runs, as it ends (one observer; undefined removes it). */
export function observeCommands(observer: ((event: CommandEvent) => void) | undefined): void {
  commandObserver = observer;
}

export abstract class CommandTransport implements Transport {
  abstract readonly kind: TransportKind;
  abstract readonly description: string;
  #count = 0;
  readonly #running = new Set<RunningCommand>();

  get commandCount(): number {
    return this.#count;
  }

  /** Starts one command line (already quoted) on the target. */
  protected abstract startCommand(command: string): Promise<RunningCommand>;

  abstract connect(): Promise<void>;
  abstract forward(remoteHost: string, remotePort: number): Promise<Forward>;

  /** `shown`: how --verbose names the command (a script's text is never shown: it may carry index credentials). */
  readonly #start = async (command: string, shown = command): Promise<RunningCommand> => {
    this.#count++;
    const started = performance.now();
    const running = await this.startCommand(command);
    this.#running.add(running);
    const ended = (code: number | null) => {
      this.#running.delete(running);
      commandObserver?.({ command: shown, code, ms: performance.now() - started });
    };
    running.finished.then(ended, () => ended(null));
    return running;
  };

  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return runCommand(this.#start, quoteArgv(argv), options);
  }

  script(script: string, args: readonly string[] = [], options?: Omit<ExecOptions, "stdin">): Promise<ExecResult> {
    const lines = script.split("\n").length;
    const start = (command: string) => this.#start(command, `${command} (a ${lines}-line script on stdin)`);
    return runCommand(start, quoteArgv(["sh", "-s", "--", ...args]), { ...options, stdin: script });
  }

  stream(argv: readonly string[], options?: Omit<ExecOptions, "stdout">): StreamHandle {
    return streamCommand(this.#start, quoteArgv(argv), options);
  }

  /** Stops commands still running; subclasses release their connection after calling this. */
  async close(): Promise<void> {
    const running = [...this.#running];
    for (const r of running) r.kill();
    await Promise.allSettled(running.map((r) => r.finished));
  }
}
