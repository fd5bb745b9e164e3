// Commands on existing jobs: status, logs, result, cancel, attach, jobs.
import { Command } from "@commander-js/extra-typings";
import { setTimeout as sleep } from "node:timers/promises";
import { type LoadedConfig, loadConfig } from "../../config/load.js";
import { findJob, listJobs, readJobs } from "../../jobs/registry.js";
import { isFinal, type JobRecord } from "../../model/job.js";
import type { ListedJob } from "../../model/listed-job.js";
import { EXIT, InputError } from "../../util/errors.js";
import { targetName } from "../flags.js";
import { interruptSignal } from "../interrupt.js";
import { control, followLog, refreshActive, showOutcome } from "../job-actions.js";
import { colorState, info, JOB_HEADERS, jobRow, printJson, table, warn } from "../output.js";

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

/** Prints a final job's result (stdout) or its error (stderr, exit 1). `logShown`: its log is on screen already. */
async function printOutcome(config: LoadedConfig, job: JobRecord, json: boolean, logShown: boolean): Promise<void> {
  if (await showOutcome(config, job, json, logShown)) process.exitCode = EXIT.jobFailed;
}

export function jobCommands() {
  const status = new Command("status")
    .description("show a job's state (default: the newest job)")
    .argument("[job]", "job id or a unique prefix")
    .option("--json", "print one JSON object")
    .action(async (id, options) => {
      const { job } = await currentJob(id);
      if (options.json) printJson(job);
      else printTable([job]);
    });

  const logs = new Command("logs")
    .description("print a job's log")
    .argument("<job>", "job id or a unique prefix")
    .option("-f, --follow", "keep printing new output until the job ends")
    .action(async (id, options) => {
      const { config, job } = await currentJob(id);
      const write = (text: string) => process.stdout.write(text);
      if (options.follow) await followLog(config, job, write, interruptSignal());
      else write((await (await control()).readJobLog(config, job)).text);
    });

  const result = new Command("result")
    .description("print a finished job's result (its error and exit code 1 if it failed)")
    .argument("<job>", "job id or a unique prefix")
    .option("--json", "print one JSON object")
    .action(async (id, options) => {
      const { config, job } = await currentJob(id);
      if (!isFinal(job.state)) {
        throw new InputError(`job ${job.id} is still ${job.state}; wait for it with: slurmray attach ${job.id}`);
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
      // Ctrl-C stops watching only; finishJob then says once that the job goes on.
      await followLog(config, job, (text) => process.stderr.write(text), interruptSignal());
      await printOutcome(config, job, options.json ?? false, true);
    });

  const jobs = new Command("jobs")
    .description("list this project's jobs: on a terminal, a live view with keys to follow, cancel, open the dashboard, show the result")
    .option("--target <name>", "only jobs of this target", targetName)
    .option("--watch", "print the table every 2 seconds until all jobs have ended (no keys)")
    .option("--json", "print one JSON object")
    .action(async (options) => {
      const config = loadConfig(process.cwd());
      const signal = options.watch ? interruptSignal() : undefined;
      for (const record of readJobs(config.root).invalid) warn(`skipped: ${record.error.message}`);
      if (!options.json && !options.watch && process.stdout.isTTY && process.stdin.isTTY) {
        const { JobsView } = await import("../jobs-view.js");
        return new JobsView(config, options.target).run();
      }
      for (;;) {
        const selected = listJobs(config.root).filter((job) => !options.target || job.target === options.target);
        await refreshActive(config, selected);
        const details = options.target ? await (await control()).clusterDetails(config, options.target, selected) : null;
        if (options.json) printJson({ jobs: selected.map((job) => (details ? { ...job, cluster: details.get(job.id) ?? null } : job)) });
        else if (details) printClusterTable(selected, details);
        else printTable(selected);
        if (!options.watch || signal?.aborted || selected.every((job) => isFinal(job.state))) break;
        await sleep(2000);
      }
    });

  return [status, logs, result, cancel, attach, jobs];
}
