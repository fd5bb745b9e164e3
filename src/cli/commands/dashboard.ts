// slurmray dashboard JOB: the Ray dashboard of a running job, forwarded to this machine until Ctrl-C or the
// job's end.
import { Command } from "@commander-js/extra-typings";
import { setTimeout as sleep } from "node:timers/promises";
import type { LoadedConfig } from "../../config/load.js";
import type { Dashboard } from "../../jobs/dashboard.js";
import { isFinal, type JobRecord } from "../../model/job.js";
import { openBrowser } from "../browser.js";
import { interruptSignal } from "../interrupt.js";
import { jobsLayer } from "../lazy.js";
import { info, warn } from "../output.js";
import { currentJob } from "./jobs.js";

/** How often an open dashboard checks whether its job has ended (one batched poll). */
const JOB_CHECK_MS = 5000;

/**
 * For `run --dashboard`: once the submitted job runs and its head has the dashboard up, opens it, says its URL
 * once (through `note`, so stdout keeps only the result) and keeps it open until `stop`.
 */
export function dashboardWhileRunning(config: LoadedConfig, note: (message: string) => void): { start(job: JobRecord): void; stop(): Promise<void> } {
  const stopping = new AbortController();
  let opening: Promise<Dashboard | null> = Promise.resolve(null);
  return {
    start(job) {
      opening = jobsLayer(() => import("../../jobs/dashboard.js"))
        .then(({ openDashboardWhenReady }) => openDashboardWhenReady(config, job, stopping.signal))
        .then((dashboard) => {
          if (dashboard) {
            note(`Ray dashboard of job ${job.id}: ${dashboard.url}`);
            void openBrowser(dashboard.url);
          }
          return dashboard;
        })
        .catch((error: unknown) => {
          warn(`could not open the Ray dashboard: ${error instanceof Error ? error.message : String(error)}`);
          return null;
        });
    },
    async stop() {
      stopping.abort();
      await (await opening)?.close();
    },
  };
}

/** Keeps the dashboard open until Ctrl-C or the job's end, then closes it. */
async function keepOpen(config: LoadedConfig, job: JobRecord, dashboard: Dashboard, signal: AbortSignal): Promise<void> {
  const { refreshJobs } = await jobsLayer(() => import("../../jobs/control.js"));
  try {
    while (!signal.aborted) {
      await sleep(JOB_CHECK_MS, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) break;
      await refreshJobs(config, [job]);
      if (isFinal(job.state)) {
        info(`job ${job.id} ended ${job.state}; its dashboard is closed`);
        return;
      }
    }
    info(`dashboard of job ${job.id} closed; the job goes on`);
  } finally {
    await dashboard.close();
  }
}

export function dashboardCommand() {
  return new Command("dashboard")
    .description("forward a running job's Ray dashboard to this machine (jobs started with run --dashboard)")
    .argument("<job>", "job id or a unique prefix")
    .option("--no-browser", "print the URL only; do not open a browser")
    .action(async (id, options) => {
      const signal = interruptSignal();
      const { config, job } = await currentJob(id);
      const { openDashboard } = await jobsLayer(() => import("../../jobs/dashboard.js"));
      const dashboard = await openDashboard(config, job);
      // The URL alone on stdout, for scripts; the rest on stderr.
      process.stdout.write(`${dashboard.url}\n`);
      info(`Ray dashboard of job ${job.id}: ${dashboard.url} (Ctrl-C closes it)`);
      if (options.browser) void openBrowser(dashboard.url);
      await keepOpen(config, job, dashboard, signal);
    });
}
