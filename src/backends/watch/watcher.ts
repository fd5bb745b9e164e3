// One remote watcher per connection (src/remote/watcher.py) follows every job this process watches: one
// long-running command, fed "add"/"remove"/"finish" on stdin, sending frames back (frames.ts). It streams
// each log from its byte offset, sees the runner's final status.json within ~100 ms, and runs the backend's
// batched status command for all watched jobs at a slow interval. A lost connection is retried with backoff,
// each job's log resuming at the byte it had reached; a channel refused by sshd (MaxSessions) is retried
// too, and never taken for a job's failure.
import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { TextDecoder } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { outcomeOf } from "../../model/outcome.js";
import { isFinal, type JobRecord } from "../../model/job.js";
import { remoteFile } from "../../remote/index.js";
import type { Transport } from "../../transport/types.js";
import { ConnectionError, InputError, RemoteCommandError } from "../../util/errors.js";
import { announcedSize, SizedBuffer } from "../../util/sized-buffer.js";
import type { JobStatus } from "../types.js";
import { type Frame, FrameReader } from "./frames.js";
import type { ReconnectPolicy, RunnerStatus, WatchRequest, WatchResult, WatchScheduler } from "./types.js";

const SOURCE = readFileSync(remoteFile("watcher.py"));
/** Reads the source from stdin, then runs it: one line, so any login shell passes it through. */
const BOOTSTRAP = "import sys;exec(compile(sys.stdin.buffer.read(int(sys.stdin.buffer.readline())),'watcher.py','exec'))";
/** Job ids travel in frame headers (frames.ts). */
const JOB_ID = /^[A-Za-z0-9_.-]+$/;
/**
 * How sshd's refusal of a new channel (over MaxSessions) shows: ssh2 fails to open it; OpenSSH's mux client
 * falls back to a connection of its own (the command runs, with the message on stderr) and only fails when
 * that fallback cannot log in either.
 */
const CHANNEL_REFUSED = /refused by peer|open failed|administratively prohibited|session request failed/i;
const REFUSED_DELAY_MS = { base: 200, max: 5000 };
/** The files the watcher sends at a job's end, each as "NAME-size" then "NAME" frames. */
const OUTCOME_FILES = ["result", "error"];

interface Entry {
  job: JobRecord;
  request: WatchRequest;
  offset: number;
  decoder: TextDecoder;
  lastQueue: string | null;
  /** The last polled status; set to a final one when the poll ended the job. */
  polled: JobStatus | null;
  runner: RunnerStatus | null;
  /** result.json and error.json as they arrive: one buffer of the announced size each, filled in place. */
  files: Map<string, SizedBuffer>;
  resolve(result: WatchResult): void;
  reject(error: unknown): void;
}

/** One run of watcher.py on the connection. */
interface Channel {
  stdin: PassThrough;
  ready: boolean;
  /** The jobs each poll command covers, by the generation the watcher echoes back. */
  polls: Map<string, JobRecord[]>;
  pollOutput: Buffer | null;
  /** Stops the command when its output is not the watcher's. */
  abort: AbortController;
  error: unknown;
  /** Ended on purpose: no job was left. */
  stopped: boolean;
}

function parseJson<T>(text: string | null): T | null {
  return text === null || text === "" ? null : (JSON.parse(text) as T);
}

export class JobWatcher {
  readonly #entries = new Map<string, Entry>();
  #channel: Channel | null = null;
  /** Whether #run is going (it serves jobs added at any time, on its current or next channel). */
  #running = false;
  #generation = 0;
  #pollTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly transport: Transport,
    private readonly scheduler: WatchScheduler,
    private readonly reconnect: ReconnectPolicy = {},
  ) {}

  /** Follows a job to its end: its log as it arrives, then its final status and outcome. */
  watch(job: JobRecord, request: WatchRequest = {}): Promise<WatchResult> {
    if (!JOB_ID.test(job.id)) return Promise.reject(new InputError(`job id ${JSON.stringify(job.id)} is not one slurmray makes`));
    if (job.schedulerId === null) return Promise.reject(new InputError(`job ${job.id} has not been submitted yet`));
    if (this.#entries.has(job.id)) return Promise.reject(new InputError(`job ${job.id} is already watched by this process`));
    return new Promise<WatchResult>((resolve, reject) => {
      request.signal?.throwIfAborted();
      const entry: Entry = {
        job,
        request,
        offset: request.fromOffset ?? 0,
        decoder: new TextDecoder("utf-8"),
        lastQueue: null,
        polled: null,
        runner: null,
        files: new Map(),
        resolve,
        reject,
      };
      this.#entries.set(job.id, entry);
      request.signal?.addEventListener(
        "abort",
        () => {
          if (this.#entries.get(job.id) !== entry) return;
          this.#send({ op: "remove", id: job.id });
          this.#drop(job.id);
          reject(request.signal?.reason);
        },
        { once: true },
      );
      if (this.#channel) {
        this.#add(this.#channel, entry);
        this.#schedulePollUpdate();
      } else if (!this.#running) this.#run().catch(() => {});
    });
  }

  /** Number of jobs being watched. */
  get size(): number {
    return this.#entries.size;
  }

  #send(command: object, channel = this.#channel): void {
    if (channel && !channel.stdin.writableEnded) channel.stdin.write(`${JSON.stringify(command)}\n`);
  }

  #add(channel: Channel, entry: Entry): void {
    const { job, offset, request } = entry;
    this.#send({ op: "add", id: job.id, dir: job.remoteDir, offset, ...(request.stateOnly ? { quiet: true, ...(request.outcome ? { outcome: true } : {}) } : {}) }, channel);
  }

  /** The poll command covers all watched jobs: resent (once per burst of adds) when the set changes. */
  #schedulePollUpdate(): void {
    this.#pollTimer ??= setTimeout(() => {
      this.#pollTimer = null;
      if (this.#channel) this.#sendPoll(this.#channel);
    }, 20);
  }

  #sendPoll(channel: Channel): void {
    const jobs = [...this.#entries.values()].map((e) => e.job);
    if (jobs.length === 0) return;
    const generation = String(++this.#generation);
    channel.polls.set(generation, jobs);
    this.#send({ op: "poll", tag: generation, command: this.scheduler.pollCommand(jobs), every: this.scheduler.pollEveryMs / 1000 }, channel);
  }

  #drop(id: string): void {
    this.#entries.delete(id);
    if (this.#entries.size === 0 && this.#channel) {
      this.#channel.stopped = true;
      this.#channel.stdin.end(); // the watcher ends at the end of its input
      this.#channel = null;
    } else this.#schedulePollUpdate();
  }

  #failAll(error: unknown): void {
    for (const entry of [...this.#entries.values()]) entry.reject(error);
    this.#entries.clear();
  }

  /** Runs the watcher until no job is left, reconnecting after a lost connection. */
  async #run(): Promise<void> {
    this.#running = true;
    try {
      await this.#serve();
    } finally {
      this.#running = false;
    }
  }

  async #serve(): Promise<void> {
    const { attempts = 8, baseDelayMs = 1000, maxDelayMs = 20_000 } = this.reconnect;
    let lost = 0;
    let refused = 0;
    while (this.#entries.size > 0) {
      const channel: Channel = {
        stdin: new PassThrough(),
        ready: false,
        polls: new Map(),
        pollOutput: null,
        abort: new AbortController(),
        error: null,
        stopped: false,
      };
      this.#channel = channel;
      const python = [...this.#entries.values()][0]!.job.python;
      channel.stdin.write(`${SOURCE.length}\n`);
      channel.stdin.write(SOURCE);
      for (const entry of this.#entries.values()) this.#add(channel, entry);
      this.#sendPoll(channel);
      let failure: unknown = null;
      try {
        const reader = new FrameReader((frame) => this.#onFrame(channel, frame));
        reader.on("error", (error) => {
          channel.error = error;
          channel.abort.abort();
        });
        const argv = [python, "-u", "-c", BOOTSTRAP];
        const done = await this.transport.exec(argv, { stdin: channel.stdin, stdout: reader, signal: channel.abort.signal });
        if (channel.stopped) continue; // no job was left (jobs added since then get a new channel)
        failure = new RemoteCommandError("Watching jobs", `${python} -c … (watcher.py)`, done.code, done.stderr);
        if (!channel.ready && CHANNEL_REFUSED.test(done.stderr)) failure = null;
      } catch (error) {
        if (channel.stopped) continue;
        failure = error;
        if (!(error instanceof ConnectionError)) {
          this.#channel = null;
          this.#failAll(channel.error ?? error);
          return;
        }
      }
      this.#channel = null;
      if (channel.ready) {
        lost = 0;
        refused = 0;
      }
      if (failure instanceof RemoteCommandError) {
        this.#failAll(failure);
        return;
      }
      const refusal = failure === null || (!channel.ready && CHANNEL_REFUSED.test(String((failure as Error).message)));
      let delayMs: number;
      if (refusal) {
        delayMs = Math.min(REFUSED_DELAY_MS.base * 2 ** refused++, REFUSED_DELAY_MS.max);
      } else {
        if (lost >= attempts) {
          this.#failAll(failure);
          return;
        }
        delayMs = Math.min(baseDelayMs * 2 ** lost, maxDelayMs);
        lost++;
        for (const entry of this.#entries.values()) entry.request.onReconnect?.(lost, delayMs);
      }
      for (const entry of this.#entries.values()) Object.assign(entry, { polled: null, runner: null, files: new Map() });
      await sleep(delayMs);
      if (!refusal) await this.transport.connect().catch(() => {}); // a failure shows as the next run's ConnectionError
    }
  }

  #onFrame(channel: Channel, frame: Frame): void {
    if (frame.type === "ready") channel.ready = true;
    else if (frame.type === "poll") channel.pollOutput = frame.payload;
    else if (frame.type === "poll-exit") this.#onPoll(channel, frame.id, frame.payload.toString("utf8")).catch(() => {});
    else {
      const entry = this.#entries.get(frame.id);
      if (entry) this.#onJobFrame(entry, frame);
    }
  }

  /** A poll's output: queue updates, and the end of jobs the scheduler says have ended. */
  async #onPoll(channel: Channel, generation: string, exit: string): Promise<void> {
    const output = channel.pollOutput?.toString("utf8") ?? "";
    channel.pollOutput = null;
    const jobs = (channel.polls.get(generation) ?? []).filter((job) => this.#entries.has(job.id));
    const space = exit.indexOf(" ");
    const statuses = await this.scheduler.parsePoll(output, Number(exit.slice(0, space)), exit.slice(space + 1), jobs);
    for (const job of jobs) {
      const entry = this.#entries.get(job.id);
      const status = statuses.get(job.id);
      if (!entry || !status || (entry.polled && isFinal(entry.polled.state))) continue; // already ending
      entry.polled = status;
      if (isFinal(status.state)) {
        this.#send({ op: "finish", id: job.id }, channel);
        continue;
      }
      const update = { state: status.state, reason: status.reason ?? "", position: null };
      const key = JSON.stringify(update);
      if (key !== entry.lastQueue) {
        entry.lastQueue = key;
        entry.request.onQueue?.(update);
      }
    }
  }

  #onJobFrame(entry: Entry, { type, payload }: Frame): void {
    if (type === "log") {
      entry.offset += payload.length;
      const text = entry.decoder.decode(payload, { stream: true });
      if (text) entry.request.onLog?.(text);
    } else if (type === "runner") entry.runner = parseJson<RunnerStatus>(payload.toString("utf8"));
    else if (type === "end") this.#end(entry).catch(entry.reject);
    else if (type.endsWith("-size") && OUTCOME_FILES.includes(type.slice(0, -5))) {
      entry.files.set(type.slice(0, -5), new SizedBuffer(announcedSize(payload.toString("latin1"))));
    } else entry.files.get(type)?.add(payload);
  }

  async #end(entry: Entry): Promise<void> {
    const { job } = entry;
    this.#drop(job.id);
    const rest = entry.decoder.decode();
    if (rest) entry.request.onLog?.(rest);
    // The result's bytes are kept as they came (its value stays text), never copied into a string.
    const bytes = (name: string) => entry.files.get(name)?.bytes() ?? null;
    const outcome = outcomeOf(job.remoteDir, bytes("result"), bytes("error"));
    entry.files.clear();
    const status = await this.scheduler.finalStatus(job, entry.runner, entry.polled);
    const outputs = typeof entry.runner?.outputs === "number" ? entry.runner.outputs : null;
    entry.resolve({ status, outcome, logOffset: entry.offset, outputs });
  }
}

const shared = new WeakMap<Transport, JobWatcher>();

/** The one watcher of a connection: every job this process watches there goes through it. */
export function sharedWatcher(transport: Transport, scheduler: () => WatchScheduler, reconnect?: ReconnectPolicy): JobWatcher {
  let watcher = shared.get(transport);
  if (!watcher) {
    watcher = new JobWatcher(transport, scheduler(), reconnect);
    shared.set(transport, watcher);
  }
  return watcher;
}
