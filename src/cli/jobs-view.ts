// The live jobs view: `slurmray jobs` on a terminal. A table of the project's jobs, newest first, and keys that
// act on the selected job. States come from jobs/live.ts (the connection's one watcher on a remote target, this
// machine's processes on the local one): a job's end shows within about a second, at no remote command per
// refresh. Every second the view re-reads the local registry (jobs from other shells appear) and ticks the
// elapsed times; the scheduler's details (nodes, GPUs, CPU efficiency) are asked every 15 s, and for a target at
// the next tick after one of its jobs starts or ends. Plain ANSI and node's readline keypress events; loaded
// only when the view opens.
import { emitKeypressEvents } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import pc from "picocolors";
import type { LoadedConfig } from "../config/load.js";
import type { Dashboard } from "../jobs/dashboard.js";
import type { LiveJobs } from "../jobs/live.js";
import { listJobs } from "../jobs/registry.js";
import { isFinal, type JobRecord } from "../model/job.js";
import type { ListedJob } from "../model/listed-job.js";
import { openBrowser } from "./browser.js";
import { control, followLog, showOutcome } from "./job-actions.js";
import { jobsLayer } from "./lazy.js";
import { colorState, elapsed, table } from "./output.js";

/** Elapsed times tick and the registry is re-read: local work only. */
const TICK_MS = 1000;
/** The scheduler's details (one remote command per target with active jobs). */
const DETAILS_EVERY_MS = 15_000;
const HEADERS = ["JOB", "TARGET", "ENTRY", "STATE", "ELAPSED", "NODES", "GPUS", "CPU EFF"];
const STATE_COLUMN = 3;
const HELP = "↑/↓ j/k select   l logs   c cancel   d dashboard   r result   o outputs   q quit";
/** Lines around the table: title, blank, header above; blank, help, message below. */
const CHROME_LINES = 6;

const CSI = "\x1b[";
// The alternate screen keeps the user's scrollback; no line wrap, so long rows never break the layout.
const ENTER = `${CSI}?1049h${CSI}?25l${CSI}?7l`;
const LEAVE = `${CSI}?7h${CSI}?25h${CSI}?1049l`;
const CLEAR = `${CSI}H${CSI}2J`;

interface Key {
  name?: string;
  ctrl?: boolean;
}

/** What the keys do now: move in the table, answer the cancel question, or leave a log or result shown. */
type Mode = { kind: "table" } | { kind: "confirm"; job: JobRecord } | { kind: "shown"; following: AbortController | null };

function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "-" : `${Math.round(value * 100)}%`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class JobsView {
  readonly #config: LoadedConfig;
  readonly #target: string | undefined;
  #jobs: JobRecord[] = [];
  readonly #details = new Map<string, ListedJob>();
  /** Targets whose scheduler was asked for details at least once. */
  readonly #detailed = new Set<string>();
  /** Targets to ask for details at the next tick (one of their jobs started, ended or was cancelled here). */
  readonly #detailsDue = new Set<string>();
  #live: LiveJobs | null = null;
  #selectedId: string | null = null;
  #message = "";
  /** Why the last refresh failed (shown in the title until one succeeds), or "". */
  #refreshError = "";
  #mode: Mode = { kind: "table" };
  readonly #dashboards = new Map<string, Dashboard>();
  #closed = false;
  readonly #stopped = new AbortController();
  #quit: () => void = () => {};

  constructor(config: LoadedConfig, target: string | undefined) {
    this.#config = config;
    this.#target = target;
  }

  /** Runs until the user quits. */
  async run(): Promise<void> {
    const stdin = process.stdin;
    emitKeypressEvents(stdin);
    stdin.setRawMode(true);
    stdin.resume();
    const onKey = (_text: string | undefined, key: Key | undefined) => void this.#onKey(key ?? {});
    const onResize = () => this.#render();
    stdin.on("keypress", onKey);
    process.stdout.on("resize", onResize);
    process.stdout.write(ENTER);
    const quit = new Promise<void>((resolve) => (this.#quit = resolve));
    try {
      this.#load();
      this.#render();
      const { LiveJobs } = await jobsLayer(() => import("../jobs/live.js"));
      this.#live = new LiveJobs(this.#config, {
        onChange: (job) => {
          this.#detailsDue.add(job.target); // a start brings nodes, an end the efficiency
          this.#load();
          this.#render();
        },
        onError: (error) => {
          this.#refreshError = `watching failed: ${messageOf(error).split("\n")[0]}`;
          this.#render();
        },
      });
      await Promise.race([this.#tickLoop(), quit]);
    } finally {
      this.#closed = true;
      this.#stopped.abort();
      this.#live?.close();
      stdin.off("keypress", onKey);
      process.stdout.off("resize", onResize);
      stdin.setRawMode(false);
      stdin.pause();
      process.stdout.write(LEAVE);
      await Promise.all([...this.#dashboards.values()].map((dashboard) => dashboard.close()));
    }
  }

  /** The registry's jobs (new ones from other shells appear), newest first, with the selection kept. */
  #load(): void {
    const fresh = listJobs(this.#config.root).filter((job) => !this.#target || job.target === this.#target);
    this.#jobs = fresh.reverse();
    if (!this.#jobs.some((job) => job.id === this.#selectedId)) this.#selectedId = this.#jobs[0]?.id ?? null;
  }

  async #tickLoop(): Promise<void> {
    let detailsAt = 0;
    while (!this.#closed) {
      this.#load();
      await this.#live!.follow(this.#jobs);
      if (Date.now() >= detailsAt || this.#detailsDue.size > 0) {
        detailsAt = Date.now() + DETAILS_EVERY_MS;
        try {
          await this.#askDetails();
          this.#refreshError = "";
        } catch (error) {
          this.#refreshError = `refresh failed: ${messageOf(error).split("\n")[0]}`;
        }
      }
      this.#render();
      await sleep(TICK_MS, undefined, { signal: this.#stopped.signal }).catch(() => undefined);
    }
  }

  /**
   * What the schedulers say (nodes, GPUs, efficiency): once for every target, then again only where jobs are
   * active or have just started or ended (finished jobs' figures no longer change).
   */
  async #askDetails(): Promise<void> {
    const targets = new Set([...this.#detailsDue, ...this.#jobs.filter((job) => !isFinal(job.state) || !this.#detailed.has(job.target)).map((job) => job.target)]);
    this.#detailsDue.clear();
    const { clusterDetails } = await control();
    for (const target of targets) {
      const details = await clusterDetails(this.#config, target, this.#jobs.filter((job) => job.target === target));
      for (const [id, listed] of details.details) this.#details.set(id, listed);
      this.#detailed.add(target);
    }
  }

  #selected(): JobRecord | null {
    return this.#jobs.find((job) => job.id === this.#selectedId) ?? null;
  }

  #render(): void {
    if (this.#closed || this.#mode.kind === "shown") return;
    const rows = this.#jobs.map((job) => {
      const d = this.#details.get(job.id);
      return [job.id, job.target, job.spec.entry, job.state, elapsed(job), d?.nodes.join(",") || "-", String(d?.gpus ?? "-"), percent(d?.cpuEfficiency)];
    });
    const [header, ...lines] = table(HEADERS, rows, (column, cell) => (column === STATE_COLUMN ? colorState(cell) : cell)).split("\n");
    const selected = this.#jobs.findIndex((job) => job.id === this.#selectedId);
    const room = Math.max(1, (process.stdout.rows ?? 24) - CHROME_LINES);
    const first = Math.min(Math.max(0, selected - room + 1), Math.max(0, lines.length - room));
    const shown = lines.slice(first, first + room).map((line, i) => (first + i === selected ? pc.inverse(`> ${line}`) : `  ${line}`));
    const status = this.#refreshError ? pc.red(this.#refreshError) : pc.dim(`${this.#config.projectName} · ${new Date().toLocaleTimeString()}`);
    const title = `${pc.bold("slurmray jobs")} ${status}`;
    const body = this.#jobs.length ? [`  ${header}`, ...shown] : [pc.dim("  no jobs yet; start one with: slurmray run ENTRY")];
    const prompt = this.#mode.kind === "confirm" ? pc.yellow(`Cancel job ${this.#mode.job.id} (${this.#mode.job.state} on ${this.#mode.job.target})? y/n`) : this.#message;
    // The message line may wrap (a dashboard URL must stay whole); the table does not.
    process.stdout.write(`${CLEAR}${[title, "", ...body, "", pc.dim(HELP)].join("\n")}\n${CSI}?7h${prompt}${CSI}?7l`);
  }

  async #onKey(key: Key): Promise<void> {
    const mode = this.#mode;
    if (mode.kind === "shown") {
      if (mode.following) {
        if (key.name === "q" || key.name === "escape" || (key.ctrl && key.name === "c")) mode.following.abort();
        return;
      }
      this.#mode = { kind: "table" };
    } else if (mode.kind === "confirm") {
      this.#mode = { kind: "table" };
      if (key.name === "y") await this.#act(() => this.#cancel(mode.job));
      else this.#message = `job ${mode.job.id} not cancelled`;
    } else {
      await this.#tableKey(key);
    }
    this.#render();
  }

  async #tableKey(key: Key): Promise<void> {
    if (key.name === "q" || key.name === "escape" || (key.ctrl && key.name === "c")) return this.#quit();
    if (key.name === "up" || key.name === "k" || key.name === "down" || key.name === "j") {
      const index = this.#jobs.findIndex((job) => job.id === this.#selectedId);
      const next = Math.min(this.#jobs.length - 1, Math.max(0, index + (key.name === "up" || key.name === "k" ? -1 : 1)));
      this.#selectedId = this.#jobs[next]?.id ?? null;
      return;
    }
    const job = this.#selected();
    if (!job) return;
    if (key.name === "c") {
      if (isFinal(job.state)) this.#message = `job ${job.id} has already ended ${job.state}`;
      else this.#mode = { kind: "confirm", job };
    } else if (key.name === "l") {
      await this.#show(`log of job ${job.id}`, (signal) => this.#paused(job, () => followLog(this.#config, job, (text) => process.stdout.write(text), signal)));
    } else if (key.name === "r") {
      if (!isFinal(job.state)) this.#message = `job ${job.id} is still ${job.state}: press l to follow its log`;
      else await this.#show(`outcome of job ${job.id}`, () => showOutcome(this.#config, job, false, false));
    } else if (key.name === "d") {
      await this.#act(() => this.#dashboard(job));
    } else if (key.name === "o") {
      await this.#act(() => this.#outputs(job));
    }
  }

  /** Runs an action, its error shown on the message line instead of ending the view. */
  async #act(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.#message = pc.red(messageOf(error));
    }
  }

  /** The job's watch is paused meanwhile, so the cancel alone records how it ended. */
  async #cancel(job: JobRecord): Promise<void> {
    this.#message = `cancelling job ${job.id}…`;
    this.#render();
    const cancelled = await this.#paused(job, async () => (await control()).cancelJob(this.#config, job));
    // The table's records are re-read every tick: the one shown now may not be the object that was cancelled.
    const shown = this.#jobs.find((row) => row.id === cancelled.id);
    if (shown) Object.assign(shown, cancelled);
    this.#message = `job ${job.id} cancelled`;
    this.#detailsDue.add(job.target);
  }

  /** Runs `action` with the view's own watch of `job` stopped (a process watches a job once at a time). */
  async #paused<T>(job: JobRecord, action: () => Promise<T>): Promise<T> {
    this.#live?.pause(job.id);
    try {
      return await action();
    } finally {
      this.#live?.resume(job.id);
    }
  }

  /** Brings the job's outputs into .slurmray/jobs/<id>/outputs (only changed files), as `result --outputs` does. */
  async #outputs(job: JobRecord): Promise<void> {
    if (!isFinal(job.state)) {
      this.#message = `job ${job.id} is still ${job.state}: its outputs come back once it has ended`;
      return;
    }
    this.#message = `fetching the outputs of job ${job.id}…`;
    this.#render();
    const [{ fetchJobOutputs }, { openTarget }] = await jobsLayer(() => Promise.all([import("../jobs/remote-run.js"), import("../jobs/session.js")]));
    const fetched = await fetchJobOutputs(await openTarget(this.#config, job.target), job);
    this.#message = `outputs of job ${job.id}: ${fetched.dir} (${fetched.files} file(s) brought back)`;
  }

  async #dashboard(job: JobRecord): Promise<void> {
    let dashboard = this.#dashboards.get(job.id);
    if (!dashboard) {
      const { openDashboard } = await jobsLayer(() => import("../jobs/dashboard.js"));
      dashboard = await openDashboard(this.#config, job);
      this.#dashboards.set(job.id, dashboard);
      void openBrowser(dashboard.url);
    }
    this.#message = `Ray dashboard of job ${job.id} (open while this view runs): ${dashboard.url}`;
  }

  /** Leaves the table for a log or an outcome on the whole screen; any key then returns to the table. */
  async #show(title: string, show: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
    const following = new AbortController();
    this.#mode = { kind: "shown", following };
    process.stdout.write(`${CLEAR}${CSI}?7h${pc.bold(title)} ${pc.dim("(q: back to the jobs)")}\n\n`);
    let end = "";
    try {
      await show(following.signal);
    } catch (error) {
      end = following.signal.aborted ? "stopped following; the job goes on" : pc.red(messageOf(error));
    }
    process.stdout.write(`${CSI}?7l\n${end ? `${end}\n` : ""}${pc.dim("press any key to return to the jobs")}`);
    this.#mode = { kind: "shown", following: null };
  }
}
