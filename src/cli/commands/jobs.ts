// Commands on existing jobs: status, logs, result, cancel, attach, jobs.
import { Command } from "@commander-js/extra-typings";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type LoadedConfig, loadConfig } from "../../config/load.js";
import { elementRecord } from "../../jobs/array-record.js";
import type { ElementOutcome } from "../../jobs/map.js";
import { findJob, listJobs, readJobs } from "../../jobs/registry.js";
import { isFinal, type JobRecord } from "../../model/job.js";
import type { ListedJob } from "../../model/listed-job.js";
import { EXIT, InputError } from "../../util/errors.js";
import { JsonText } from "../../util/json-text.js";
import { targetName } from "../flags.js";
import { interruptSignal } from "../interrupt.js";
import { jobsLayer } from "../lazy.js";
import { printElements } from "./map.js";
import { attachJob, control, followLog, refreshActive, showOutcome } from "../job-actions.js";
import { colorState, info, JOB_HEADERS, jobRow, printJson, table, warn } from "../output.js";

/** `jobs --watch` prints the table at least this often, whatever changes. */
const WATCH_REPRINT_MS = 15_000;
/** How often `jobs --watch` re-reads the registry and checks local jobs (no remote command). */
const WATCH_TICK_MS = 1000;

/** A record for --json: its arguments, kept as text (model/job-args.ts), shown as the object they are. */
function recordJson(job: JobRecord): Record<string, unknown> {
  const args = (text: string) => JsonText.from(Buffer.from(text)) ?? text;
  const array = job.array && { ...job.array, elements: job.array.elements.map((element) => ({ ...element, args: args(element.args) })) };
  return { ...job, spec: { ...job.spec, args: args(job.spec.args) }, ...(array ? { array } : {}) };
}

/** --outputs DIR: a directory, or a path to create; never an existing file. */
function outputsDir(dir: string): string {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new InputError(`--outputs: ${dir} is a file; give a directory (it is created when missing)`);
  }
  return dir;
}

export async function currentJob(id: string | undefined): Promise<{ config: LoadedConfig; job: JobRecord }> {
  const config = loadConfig(process.cwd());
  const job = findJob(config.root, id);
  await refreshActive(config, [job]);
  return { config, job };
}

function printTable(jobs: JobRecord[]): void {
  process.stdout.write(`${table(JOB_HEADERS, jobs.map(jobRow), (column, cell) => (column === 2 ? colorState(cell) : cell))}\n`);
}

function percent(value: number | null): string {
  return value === null ? "-" : `${Math.round(value * 100)}%`;
}

function mebibytes(bytes: number | null): string {
  return bytes === null ? "-" : `${Math.round(bytes / 1024 / 1024)} MiB`;
}

/** The job table with what the cluster reports: nodes, GPUs, CPU efficiency and peak memory. */
function printClusterTable(jobs: JobRecord[], details: Map<string, ListedJob>): void {
  const rows = jobs.map((job) => {
    const d = details.get(job.id);
    return [...jobRow(job), d?.nodes.join(",") || "-", String(d?.gpus ?? "-"), percent(d?.cpuEfficiency ?? null), mebibytes(d?.maxRssBytes ?? null)];
  });
  const headers = [...JOB_HEADERS, "NODES", "GPUS", "CPU EFF", "PEAK MEM"];
  process.stdout.write(`${table(headers, rows, (column, cell) => (column === 2 ? colorState(cell) : cell))}\n`);
}

/** The whole queue of a shared server: every user's waiting and running jobs. */
function printQueue(target: string, queue: readonly ListedJob[]): void {
  info(`the queue on ${target}: ${queue.length === 0 ? "empty" : `${queue.length} job(s)`}`);
  if (queue.length === 0) return;
  const rows = queue.map((j) => [j.user ?? "-", j.jobId, j.schedulerState, String(j.cpus ?? "-"), `${j.memGb ?? "-"} GB`, j.gpuIds?.length ? j.gpuIds.join(",") : "-", j.since ? j.since.slice(0, 19).replace("T", " ") : "-"]);
  process.stdout.write(`${table(["USER", "JOB", "STATE", "CPUS", "MEM", "GPUS", "SINCE"], rows)}\n`);
}

/** Element records of an array (none for another job), for its status table. */
function elementsOf(job: JobRecord): JobRecord[] {
  return (job.array?.elements ?? []).map((_, index) => elementRecord(job, index));
}

/** Prints a final job's result (stdout) or its error (stderr, exit 1). `logShown`: its log is on screen already. */
async function printOutcome(config: LoadedConfig, job: JobRecord, json: boolean, logShown: boolean): Promise<void> {
  if (job.array) return printArrayOutcome(config, job, json);
  if (await showOutcome(config, job, json, logShown)) process.exitCode = EXIT.jobFailed;
}

/** An array's outcome: every element's, in order, as `map` prints it (read now unless `known`: attach's). */
async function printArrayOutcome(config: LoadedConfig, job: JobRecord, json: boolean, known?: ElementOutcome[]): Promise<void> {
  const elements = known ?? (await readArrayOutcomes(config, job));
  const report = { job_id: job.id, target: job.target, state: job.state, elements };
  if (json) printJson(report);
  else printElements(job.id, elements);
  if (json && job.state !== "COMPLETED") process.exitCode = EXIT.jobFailed;
}

async function readArrayOutcomes(config: LoadedConfig, job: JobRecord): Promise<ElementOutcome[]> {
  const [{ arrayOutcomes }, { openTarget }] = await jobsLayer(() => Promise.all([import("../../jobs/map.js"), import("../../jobs/session.js")]));
  return arrayOutcomes(await openTarget(config, job.target), job);
}

/** The registry's jobs, of one target when given. */
function selectJobs(config: LoadedConfig, target: string | undefined): JobRecord[] {
  return listJobs(config.root).filter((job) => !target || job.target === target);
}

/** The jobs table, or one JSON object; with a target, what its scheduler reports too (one remote command). */
async function printJobs(config: LoadedConfig, selected: JobRecord[], target: string | undefined, json: boolean): Promise<void> {
  const cluster = target ? await (await control()).clusterDetails(config, target, selected) : null;
  const details = cluster?.details ?? null;
  if (json) printJson({ jobs: selected.map((job) => (details ? { ...recordJson(job), cluster: details.get(job.id) ?? null } : recordJson(job))), ...(cluster?.queue ? { queue: cluster.queue } : {}) });
  else if (details) {
    printClusterTable(selected, details);
    if (cluster?.queue) printQueue(target!, cluster.queue);
  } else printTable(selected);
}

/**
 * `jobs --watch`: the table now, then again each time a job starts or ends (told through jobs/live.ts: the
 * connection's one watcher, or this machine's processes) and at least every 15 s, until every job has ended.
 * The registry is re-read every second, so jobs from other shells are followed too.
 */
async function watchJobs(config: LoadedConfig, target: string | undefined, print: (selected: JobRecord[]) => Promise<void>, signal: AbortSignal): Promise<void> {
  const { LiveJobs } = await jobsLayer(() => import("../../jobs/live.js"));
  let changed = false;
  let wake = new AbortController();
  const onChange = () => {
    changed = true;
    wake.abort();
  };
  const live = new LiveJobs(config, { onChange, onError: (error) => warn(`watching jobs: ${error instanceof Error ? error.message : String(error)}`) });
  let printedAt = Number.NEGATIVE_INFINITY;
  try {
    for (;;) {
      wake = new AbortController();
      const selected = selectJobs(config, target);
      await live.follow(selected);
      if (changed || Date.now() - printedAt >= WATCH_REPRINT_MS) {
        changed = false;
        printedAt = Date.now();
        await print(selected);
      }
      if (signal.aborted || selected.every((job) => isFinal(job.state))) return;
      await sleep(WATCH_TICK_MS, undefined, { signal: AbortSignal.any([wake.signal, signal]) }).catch(() => undefined);
    }
  } finally {
    live.close();
  }
}

export function jobCommands() {
  const status = new Command("status")
    .description("show a job's state (default: the newest job)")
    .argument("[job]", "job id or a unique prefix")
    .option("--json", "print one JSON object")
    .action(async (id, options) => {
      const { job } = await currentJob(id);
      if (options.json) printJson(recordJson(job));
      else printTable([job, ...elementsOf(job)]);
    });

  const logs = new Command("logs")
    .description("print a job's log")
    .argument("<job>", "job id or a unique prefix")
    .option("-f, --follow", "keep printing new output until the job ends")
    .action(async (id, options) => {
      const { config, job } = await currentJob(id);
      if (job.array) throw new InputError(`job ${job.id} is an array of ${job.array.elements.length} elements, each with its own log: slurmray logs ${job.id}_N`);
      const write = (text: string) => process.stdout.write(text);
      if (options.follow) await followLog(config, job, write, interruptSignal());
      else write((await (await control()).readJobLog(config, job)).text);
    });

  const result = new Command("result")
    .description("print a finished job's result (its error and exit code 1 if it failed)")
    .argument("<job>", "job id or a unique prefix")
    .option("--json", "print one JSON object")
    .option("--outputs [dir]", "also bring the job's outputs/ back, only changed files (default dir: .slurmray/jobs/<id>/outputs)")
    .action(async (id, options) => {
      const { config, job } = await currentJob(id);
      if (!isFinal(job.state)) {
        throw new InputError(`job ${job.id} is still ${job.state}; wait for it with: slurmray attach ${job.id}`);
      }
      if (options.outputs !== undefined) {
        const dir = options.outputs === true ? undefined : resolve(outputsDir(options.outputs));
        const [{ fetchJobOutputs }, { openTarget }] = await jobsLayer(() => Promise.all([import("../../jobs/remote-run.js"), import("../../jobs/session.js")]));
        const fetched = await fetchJobOutputs(await openTarget(config, job.target), job, dir, info);
        info(`outputs of job ${job.id}: ${fetched.dir} (${fetched.files} file(s) brought back)`);
      }
      await printOutcome(config, job, options.json ?? false, false);
    });

  const cancel = new Command("cancel")
    .description("cancel a job")
    .argument("<job>", "job id or a unique prefix")
    .action(async (id) => {
      const { config, job } = await currentJob(id);
      const before = job.state;
      await (await control()).cancelJob(config, job);
      info(isFinal(before) ? `job ${job.id} had already ended ${before}` : `job ${job.id} cancelled`);
    });

  const attach = new Command("attach")
    .description("follow a job's log until it ends, then print its result")
    .argument("<job>", "job id or a unique prefix")
    .option("--json", "print one JSON object")
    .action(async (id, options) => {
      const { config, job } = await currentJob(id);
      if (job.array) {
        if (isFinal(job.state)) return printArrayOutcome(config, job, options.json ?? false);
        const [{ finishArray }, { openTarget }] = await jobsLayer(() => Promise.all([import("../../jobs/map.js"), import("../../jobs/session.js")]));
        const { elements } = await finishArray(await openTarget(config, job.target), job, { signal: interruptSignal(), onProgress: info }, false, undefined, true);
        return printArrayOutcome(config, job, options.json ?? false, elements);
      }
      // As run would have: retried when the cluster ended it, its outputs brought back. Ctrl-C stops watching only.
      const outputs = await attachJob(config, job, (text) => process.stderr.write(text), info, interruptSignal());
      if (await showOutcome(config, job, options.json ?? false, true, outputs)) process.exitCode = EXIT.jobFailed;
    });

  const jobs = new Command("jobs")
    .description("list this project's jobs: on a terminal, a live view with keys to follow, cancel, open the dashboard, show the result")
    .option("--target <name>", "only jobs of this target", targetName)
    .option("--watch", "print the table again whenever a job starts or ends (and every 15 s) until all jobs have ended (no keys)")
    .option("--json", "print one JSON object")
    .action(async (options) => {
      const config = loadConfig(process.cwd());
      for (const record of readJobs(config.root).invalid) warn(`skipped: ${record.error.message}`);
      if (!options.json && !options.watch && process.stdout.isTTY && process.stdin.isTTY) {
        const { JobsView } = await import("../jobs-view.js");
        return new JobsView(config, options.target).run();
      }
      const print = (selected: JobRecord[]) => printJobs(config, selected, options.target, options.json ?? false);
      if (options.watch) await watchJobs(config, options.target, print, interruptSignal());
      else {
        const selected = selectJobs(config, options.target);
        await refreshActive(config, selected);
        await print(selected);
      }
    });

  return [status, logs, result, cancel, attach, jobs];
}
