// What the job commands and the live jobs view both do to a job: refresh it, follow its log, show its outcome.
// The control layer (sessions, transports) loads only when a job must be asked about or changed on its target.
import type { OutputsResult } from "../codesync/outputs.js";
import type { LoadedConfig } from "../config/load.js";
import { isFinal, type JobRecord } from "../model/job.js";
import { completedResult, resultToPrint } from "../model/outcome.js";
import { jobsLayer } from "./lazy.js";
import { printFailure, printJson } from "./output.js";

export const control = () => jobsLayer(() => import("../jobs/control.js"));
const watching = () => jobsLayer(() => Promise.all([import("../jobs/run.js"), import("../jobs/session.js")]));

/** Brings the records of active jobs up to date (one batched poll per target); final ones cost nothing. */
export async function refreshActive(config: LoadedConfig, jobs: JobRecord[]): Promise<void> {
  if (jobs.some((job) => !isFinal(job.state))) await (await control()).refreshJobs(config, jobs);
}

/**
 * Writes a job's log and, while it runs, what it prints next, until it ends or `signal` aborts (then an
 * InterruptedError says the job goes on). A running job costs one streaming watch (one remote command on Slurm).
 */
export async function followLog(config: LoadedConfig, job: JobRecord, write: (text: string) => void, signal: AbortSignal): Promise<void> {
  if (isFinal(job.state)) {
    write((await (await control()).readJobLog(config, job)).text);
    return;
  }
  const [{ finishJob }, { openTarget }] = await watching();
  await finishJob(await openTarget(config, job.target), job, { onLog: write, signal }, false);
}

/**
 * Follows a job to its end as `run` does (`attach`): its log through `write`, a job the cluster ended goes back
 * in (max_retries), and its outputs come back (returned; null when it wrote none). A job already ended: its log.
 * Ctrl-C stops watching only (an InterruptedError says the job goes on).
 */
export async function attachJob(config: LoadedConfig, job: JobRecord, write: (text: string) => void, onProgress: (message: string) => void, signal: AbortSignal): Promise<OutputsResult | null> {
  if (isFinal(job.state)) return followLog(config, job, write, signal).then(() => null);
  const [{ followToEnd }, { openTarget }] = await watching();
  return (await followToEnd(await openTarget(config, job.target), job, { onLog: write, onProgress, signal }, false)).outputs;
}

/**
 * Prints a final job's result (stdout) or its error (stderr); says whether it failed. `logShown`: its log is on
 * screen already. `outputs`: what was brought back of its outputs, in the JSON too.
 */
export async function showOutcome(config: LoadedConfig, job: JobRecord, json: boolean, logShown: boolean, outputs: OutputsResult | null = null): Promise<boolean> {
  const outcome = await (await control()).readJobOutcome(config, job);
  const failed = job.state !== "COMPLETED";
  const result = resultToPrint(failed ? outcome.result : completedResult(job.id, job.remoteDir, outcome));
  if (json) printJson({ job_id: job.id, state: job.state, result, error: outcome.error, ...(outputs ? { outputs } : {}) });
  else if (!failed) printJson(result);
  if (failed) printFailure(job, outcome.error, logShown || json);
  return failed;
}
