// Progress on stderr. On a terminal, one spinner (yocto-spinner) for the step under way, with its elapsed time,
// replaced by a ✔ line when the step ends; elsewhere one timestamped line per step change. The spinner stops
// for good once job output streams, so it never mixes with the job's own lines. NO_COLOR is honoured by
// picocolors and by yocto-spinner's colours.
import pc from "picocolors";
import type { Spinner } from "yocto-spinner";
import type { StepEvent } from "../jobs/report.js";
import { currentVerbosity, type Verbosity, warn } from "./output.js";

export interface ProgressOptions {
  verbosity: Verbosity;
  /** Draw a spinner (stderr is a terminal). */
  tty: boolean;
  write?: (text: string) => void;
  now?: () => Date;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The spinner on screen, if any: a password prompt takes it down first (see pauseSpinner). */
let spinning: Progress | null = null;

/** Takes the spinner off the terminal before something else draws there (a password prompt). */
export function pauseSpinner(): void {
  spinning?.stop();
}

export class Progress {
  readonly #options: ProgressOptions;
  readonly #write: (text: string) => void;
  #spinner: Spinner | null = null;
  #label = "";
  #step = "";
  #since = 0;
  #ticker: NodeJS.Timeout | undefined;
  /** Set once job output has streamed: from then on, plain lines only. */
  #outputSeen = false;

  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#write = options.write ?? ((text) => process.stderr.write(text));
  }

  get #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  get #animated(): boolean {
    return this.#options.tty && !this.#outputSeen && this.#options.verbosity !== "quiet";
  }

  #line(message: string): void {
    if (this.#options.tty) this.#write(`${pc.dim("slurmray")} ${message}\n`);
    else this.#write(`${pc.dim(this.#now.toISOString().slice(11, 19))} ${message}\n`);
  }

  /** A step event of the jobs layer: a new step starts, the one under way says something new, or it ends. */
  step(event: StepEvent): void {
    if (event.phase === "end") {
      // A failed job is said once, as an error, by the command.
      if (event.failed) this.#stopSpinner();
      else this.done(event.text);
    } else if (event.phase === "start" || event.step !== this.#step) this.start(event.text);
    else this.update(event.text);
    this.#step = event.phase === "end" ? "" : event.step;
  }

  /** A step starts: a spinner with its elapsed time, or one line. */
  start(label: string): void {
    this.#since = Date.now();
    this.#label = "";
    this.update(label);
  }

  /** The step under way says something new (the queue position): the spinner's text, or one more line. */
  update(label: string): void {
    if (this.#options.verbosity === "quiet" || label === this.#label) return;
    this.#label = label;
    if (!this.#animated) this.#line(label);
    else if (this.#spinner) this.#redraw();
    else {
      this.#spinner = loadSpinner()({ stream: process.stderr, handleSignals: false });
      this.#spinner.start(this.#spinnerText());
      spinning = this;
      // The elapsed time on the spinner line moves even when nothing else does.
      this.#ticker = setInterval(() => this.#redraw(), 1000);
      this.#ticker.unref();
      // A second Ctrl-C exits at once: the cursor the spinner hid must come back even then.
      process.once("exit", this.#onExit);
    }
  }

  readonly #onExit = () => this.#stopSpinner();

  #redraw(): void {
    if (this.#spinner) this.#spinner.text = this.#spinnerText();
  }

  #spinnerText(): string {
    return `${this.#label} ${pc.dim(seconds(Date.now() - this.#since).replace(/\.\d/, ""))}`;
  }

  /** The step under way ends: a ✔ line with what it did and how long it took. */
  done(summary: string): void {
    if (this.#options.verbosity === "quiet") return;
    const took = this.#label ? ` ${pc.dim(`(${seconds(Date.now() - this.#since)})`)}` : "";
    this.#stopSpinner();
    this.#label = "";
    this.#line(`${this.#options.tty ? `${pc.green("✔")} ` : ""}${summary}${took}`);
  }

  /** A message that is no step (a reconnect, a retry). */
  note(message: string): void {
    if (this.#options.verbosity === "quiet") return;
    this.#spinner?.clear();
    this.#line(message);
  }

  /** A warning, as soon as it arises (the spinner makes way for it). */
  warning(message: string): void {
    this.#spinner?.clear();
    warn(message);
  }

  /** Job output is about to be written: the spinner goes for good. */
  output(text: string): void {
    if (!this.#outputSeen) {
      this.#outputSeen = true;
      this.#stopSpinner();
    }
    this.#write(text);
  }

  /** Ends any spinner without a line (before an error is printed, or at exit). */
  stop(): void {
    this.#stopSpinner();
  }

  #stopSpinner(): void {
    if (spinning === this) spinning = null;
    process.off("exit", this.#onExit);
    clearInterval(this.#ticker);
    this.#spinner?.stop();
    this.#spinner = null;
  }
}

/** yocto-spinner is loaded only when a spinner is drawn (a terminal), not for scripts or plain output. */
let spinnerFactory: ((options: { stream: NodeJS.WriteStream; handleSignals: boolean }) => Spinner) | undefined;

export async function preloadSpinner(): Promise<void> {
  spinnerFactory ??= (await import("yocto-spinner")).default;
}

function loadSpinner() {
  if (!spinnerFactory) throw new Error("preloadSpinner() must run before a spinner is drawn");
  return spinnerFactory;
}

/** The progress display for this process's --quiet/--verbose and stderr. */
export async function progressFor(): Promise<Progress> {
  const tty = Boolean(process.stderr.isTTY) && process.env.TERM !== "dumb" && !process.env.CI;
  const verbosity = currentVerbosity();
  if (tty && verbosity !== "quiet") await preloadSpinner();
  return new Progress({ verbosity, tty });
}
