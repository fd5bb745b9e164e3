// The server kind: a shared machine with no scheduler, reached over SSH, where remote/queue.py queues jobs
// fairly between its users (docs/architecture.md, README "A shared server"). Every operation is one remote
// command running queue.py from the runtime dir with the env's python; the limits come from the target config.
import type { ServerTargetConfig, TargetConfig } from "../../config/schema.js";
import type { JobRecord, JobSpec } from "../../model/job.js";
import type { ListedJobs } from "../../model/listed-job.js";
import { runnerSpecJson } from "../../model/runner-spec.js";
import type { Transport } from "../../transport/types.js";
import { InputError, RemoteCommandError } from "../../util/errors.js";
import { quote } from "../../util/shell.js";
import { elementDirCommands } from "../batched.js";
import { envChangedError, pinLines } from "../code-link.js";
import { type JobFiles, remoteFiles } from "../job-files.js";
import { requireRuntime, withRuntime } from "../runtime.js";
import { type ArraySubmission, type Backend, type BackendContext, type JobStatus, jobPaths, neverRetry, type WatchRequest, type WatchResult } from "../types.js";
import type { JobWatcher } from "../watch/watcher.js";
import { DEFAULT_QUEUE_DIR, iso, parseJobs, parseReply, parseSubmittedIds, QUEUE_ID, type QueueJob, queueCommand, queueStatus, type ServerLimits } from "./queue-cli.js";
import { renderServerScript } from "./script.js";
import { serverWatcher } from "./watch.js";

/** The target's limits, required: the queue shares exactly what they say. */
export function serverLimits(name: string, target: ServerTargetConfig): ServerLimits {
  const limits = target.limits;
  if (!limits?.cpus || !limits.mem) {
    throw new InputError(`target ${JSON.stringify(name)}: a server target needs limits = { cpus = N, mem = GB, gpus = [ids] } in slurmray.toml (what slurmray may share out on that machine)`);
  }
  return { cpus: limits.cpus, mem: limits.mem, gpus: limits.gpus ?? [] };
}

/** A request larger than the server's limits could never start: refused before anything is sent. */
export function checkServerJob(target: TargetConfig, spec: JobSpec, name = "server"): void {
  const limits = serverLimits(name, target as ServerTargetConfig);
  const r = spec.resources;
  const over = (flag: string, asked: number, limit: number, unit: string) =>
    new InputError(`${flag} ${asked}: target ${JSON.stringify(name)} shares at most ${limit}${unit} (its limits.${flag.slice(2)}); ask for less`);
  if (r.cpus > limits.cpus) throw over("--cpus", r.cpus, limits.cpus, " CPUs");
  if (r.mem > limits.mem) throw over("--mem", r.mem, limits.mem, " GB");
  if (r.gpus > limits.gpus.length) throw over("--gpus", r.gpus, limits.gpus.length, limits.gpus.length ? ` GPUs (ids ${limits.gpus.join(", ")})` : " GPUs: it lists none");
}

export class ServerBackend implements Backend {
  readonly kind = "server" as const;
  readonly files: JobFiles;
  readonly limits = null;
  readonly retry = neverRetry;
  readonly #watcher: JobWatcher;

  constructor(
    readonly transport: Transport,
    readonly name: string,
    readonly target: ServerTargetConfig,
    readonly runtimeDir: string,
  ) {
    this.files = remoteFiles(transport);
    this.#watcher = serverWatcher(this);
  }

  get queueDir(): string {
    return this.target.queue_dir ?? DEFAULT_QUEUE_DIR;
  }

  /** queue.py OP ARGS… as one quoted shell command (python: the job env's, or python3 for read-only ops). */
  command(op: string, args: readonly string[] = [], python = "python3"): string {
    const queue = queueCommand(python, this.runtimeDir, this.queueDir, serverLimits(this.name, this.target), op, args);
    return `${requireRuntime(this.runtimeDir, "queue.py")}; ${queue}`;
  }

  /** One queue.py command; a missing runtime is uploaded first (backends/runtime.ts). */
  #run(what: string, command: string): Promise<Record<string, unknown>> {
    return withRuntime(this.transport, this.runtimeDir, async () => {
      const { code, stdout, stderr } = await this.transport.exec(["sh", "-c", command]);
      return parseReply(what, command, code, stdout, stderr);
    });
  }

  async submit(job: JobRecord): Promise<string> {
    return (await this.#submitDirs(job, [job])).get(job.id)!;
  }

  /** The elements of an array are N queued jobs of one group, at most maxParallel of them running at once. */
  async submitArray(array: JobRecord, elements: readonly JobRecord[], maxParallel: number): Promise<ArraySubmission> {
    const ids = await this.#submitDirs(array, elements, maxParallel);
    return { schedulerId: `array:${array.id}`, elements: new Map(elements.map((element) => [element.element!, ids.get(element.id)!])) };
  }

  /**
   * ONE remote command: `job`'s dir with job.sh and the code link, each of `dirs`' job.json, then ONE queue.py
   * submit for all the dirs (one lock and one Python for a whole array; all queued or none). With maxParallel,
   * they share a group capped at that many running at once.
   */
  async #submitDirs(job: JobRecord, dirs: readonly JobRecord[], maxParallel?: number): Promise<Map<string, string>> {
    const top = jobPaths(job.remoteDir);
    const r = job.spec.resources;
    const group = maxParallel ? ["--group", job.id, "--group-limit", String(maxParallel)] : [];
    const request = ["--cpus", String(r.cpus), "--mem", String(r.mem), "--gpus", String(r.gpus), ...(r.time ? ["--time", String(r.time)] : []), ...group, "--pass-job-dir"];
    const paths = dirs.map((element) => jobPaths(element.remoteDir));
    const lines = [
      // The job runs with the user's own umask (its supervisor, forked by queue.py submit, hands it on); the
      // job dir is private.
      "sr_umask=$(umask)",
      "umask 077",
      `mkdir -p ${quote(top.dir)} && chmod 700 ${quote(top.dir)} || exit 1`,
      ...pinLines(top.dir, job),
      `printf '%s' ${quote(renderServerScript(job, this.runtimeDir))} > ${quote(`${top.dir}/job.sh`)} || exit 1`,
      ...elementDirCommands(top.dir, paths.map((p) => p.dir)).map((c) => `${c} || exit 1`),
      ...dirs.map((element, i) => `printf '%s' ${quote(`${runnerSpecJson(element)}\n`)} > ${quote(paths[i]!.spec)} || exit 1`),
    ];
    // ONE queue.py call for every dir (at most MAX_ELEMENTS, ~100 KB of arguments): it checks them all, and
    // queues all or none. Its reply: {"id": first, "ids": [one per --job-dir, in order]}.
    const args = [...paths.flatMap((p) => ["--job-dir", p.dir]), ...request, "--", "/bin/sh", `${top.dir}/job.sh`];
    lines.push(`sr_out=$(umask "$sr_umask" && ${this.command("submit", args, job.python)}) || { printf '%s\n' "$sr_out"; exit 1; }`, `printf '%s\n' "$sr_out"`);
    const { code, stdout, stderr } = await this.transport.script(lines.join("\n"));
    const envChanged = envChangedError(code, stdout);
    if (envChanged) throw envChanged;
    const queued = parseSubmittedIds(parseReply("Queueing the job on the server", "queue.py submit", code, stdout, stderr));
    if (queued.length !== dirs.length) throw new RemoteCommandError("Queueing the job on the server", "queue.py submit", 1, stdout || stderr);
    return new Map(dirs.map((element, i) => [element.id, queued[i]!]));
  }

  /** Every job in one poll command. */
  async pollQueue(jobs: readonly JobRecord[]): Promise<Map<string, QueueJob>> {
    const ids = jobs.map((j) => j.schedulerId).filter((id): id is string => id !== null && QUEUE_ID.test(id));
    if (ids.length === 0) return new Map();
    const reply = await this.#run("Asking the server's queue", this.command("poll", ids));
    return new Map(parseJobs(reply).map((entry) => [entry.id, entry]));
  }

  async poll(jobs: readonly JobRecord[]): Promise<Map<string, JobStatus>> {
    const entries = await this.pollQueue(jobs);
    return new Map(jobs.map((job) => [job.id, queueStatus(job, job.schedulerId ? entries.get(job.schedulerId) : undefined)]));
  }

  watch(job: JobRecord, request: WatchRequest): Promise<WatchResult> {
    return this.#watcher.watch(job, request);
  }

  async cancel(job: JobRecord): Promise<void> {
    if (job.schedulerId === null) return;
    if (!QUEUE_ID.test(job.schedulerId)) throw new InputError(`job ${job.id}: ${JSON.stringify(job.schedulerId)} is not a queue job id; the record is damaged`);
    await this.#run(`Cancelling ${job.schedulerId}`, this.command("cancel", [job.schedulerId]));
  }

  /** The whole queue: every user's pending and running jobs (this project's are named by their job dir). */
  async list(_project: string, records: readonly JobRecord[]): Promise<ListedJobs> {
    const reply = await this.#run("Listing the server's queue", this.command("list"));
    const byQueueId = new Map(records.filter((r) => r.schedulerId).map((r) => [r.schedulerId!, r.id]));
    const now = Date.now() / 1000;
    return {
      sacctError: null,
      jobs: parseJobs(reply).map((entry) => ({
        schedulerId: entry.id,
        jobId: byQueueId.get(entry.id) ?? entry.id,
        user: entry.user,
        state: entry.state === "UNKNOWN" ? "FAILED" : entry.state,
        schedulerState: entry.state === "PENDING" && entry.position !== null ? `PENDING #${entry.position}` : entry.state,
        elapsedSeconds: entry.started !== null ? Math.round((entry.ended ?? now) - entry.started) : null,
        nodes: [],
        cpus: entry.cpus,
        memGb: entry.mem,
        gpus: entry.gpus,
        gpuIds: entry.gpuIds,
        since: iso(entry.started ?? entry.submitted),
        cpuEfficiency: null,
        maxRssBytes: null,
      })),
    };
  }

  /**
   * The slurmray job ids of the user's pending and running jobs, from one `active`: the name under `jobs/`
   * of each job dir (an array element's dir is below its array's).
   */
  liveJobsCommand(): string {
    const names = "import json, re, sys; [print(m.group(1)) for d in json.load(sys.stdin)['job_dirs'] for m in [re.search(r'/projects/[^/]+/jobs/([^/]+)', d)] if m]";
    return [`sr_active=$(${this.command("active")}) || exit 1`, `printf '%s' "$sr_active" | python3 -c ${quote(names)}`].join("\n");
  }
}

/** The backend of a server target (registered in ../registry.ts). */
export function createServerBackend(context: BackendContext): ServerBackend {
  return new ServerBackend(context.transport, context.targetName, context.target as ServerTargetConfig, context.runtimeDir!);
}
