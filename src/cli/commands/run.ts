// slurmray run ENTRY: the main command. Logs stream to stderr, the result goes to stdout.
import { Command } from "@commander-js/extra-typings";
import type { RunReport } from "../../jobs/report.js";
import { EXIT, InputError } from "../../util/errors.js";
import { dashboardEnv } from "../../jobs/dashboard.js";
import { dashboardWhileRunning } from "./dashboard.js";
import { envVariable, parseArgs, poolKind, resourceOptions, targetName, wholeNumber } from "../flags.js";
import { WHOLE_LIMITS } from "../../model/resource-limits.js";
import { interruptSignal } from "../interrupt.js";
import { jobsLayer } from "../lazy.js";
import { info, printFailure, printJson } from "../output.js";
import { passwordProvider } from "../password.js";
import { progressFor } from "../progress.js";

function printDryRun(entry: string, report: RunReport & { dry_run?: string[] }): void {
  info(`dry run: ${entry} would run on ${report.target}; nothing was sent or changed`);
  if (report.dry_run) {
    info(report.dry_run.length ? `code that would be sent (${report.dry_run.length}):` : "code: the target is up to date, nothing would be sent");
    for (const line of report.dry_run) process.stderr.write(`  ${line}\n`);
  }
}

export function runCommand() {
  return resourceOptions(
    new Command("run")
      .description("run a Python function or script on a target and print its result")
      .argument("<entry>", "path/to/file.py:function, package.module:function, or path/to/script.py")
      .argument("[script_args...]", "arguments for a script (after --)")
      .option("--args <json>", "keyword arguments as a JSON object")
      .option("--args-file <file>", "keyword arguments from a JSON file")
      .option("--target <name>", "target from slurmray.toml (default: project.default_target, else local)", targetName)
      .option("--nodes <n>", "number of nodes", wholeNumber("--nodes", WHOLE_LIMITS.nodes)),
  )
    .option("--env <name=value>", "an environment variable for the job (repeat for more)", envVariable)
    .option("--ray", "start Ray across the allocated nodes (default when --nodes > 1)")
    .option("--no-ray", "do not start Ray")
    .option("--dashboard", "start Ray with its dashboard (adds ray[default]) and forward it here while the job runs")
    .option("--pool <kind>", 'multiprocessing.Pool inside the job: "ray" spreads it over the job\'s nodes', poolKind)
    .option("--detach", "print the job id and return at once")
    .option("--dry-run", "check everything and show what would run, without running it")
    .option("--accept-new-host-key", "record the host key of a host seen for the first time (like ssh's accept-new)")
    .option("--json", "print one JSON object on stdout; human text goes to stderr")
    .action(async (entry, scriptArgs, options) => {
      const signal = interruptSignal("stopping: the job is cancelled if it was submitted");
      const [{ loadConfig }, { runJob }] = await jobsLayer(() => Promise.all([import("../../config/load.js"), import("../../jobs/run.js")]));
      const config = loadConfig(process.cwd());
      if (options.dashboard && options.ray === false) throw new InputError("--dashboard needs Ray: drop --no-ray, or --dashboard");
      const progress = await progressFor();
      // With --detach the job still starts its dashboard; `slurmray dashboard JOB` opens it later.
      const dashboard = options.dashboard && !options.detach && !options.dryRun ? dashboardWhileRunning(config, (message) => progress.note(message)) : null;
      const report = await runJob({
        cwd: process.cwd(),
        entry,
        args: parseArgs(options.args, options.argsFile),
        scriptArgs,
        target: options.target,
        resources: { nodes: options.nodes, cpus: options.cpus, mem: options.mem, gpus: options.gpus, time: options.time, partition: options.partition },
        ray: options.dashboard ? true : options.ray,
        env: { ...options.env, ...(options.dashboard ? dashboardEnv() : {}) },
        pool: options.pool,
        detach: options.detach ?? false,
        dryRun: options.dryRun ?? false,
        connect: { acceptNewHostKey: options.acceptNewHostKey, password: passwordProvider(config.env) },
        signal,
        onLog: (text) => progress.output(text),
        onProgress: (message) => progress.note(message),
        onWarning: (message) => progress.warning(message),
        onStep: (event) => progress.step(event),
        onSubmitted: dashboard?.start,
      }).finally(async () => {
        progress.stop();
        await dashboard?.stop();
      });
      const failed = report.state !== "COMPLETED" && report.state !== "PLANNED" && !options.detach;
      if (options.json) printJson(report);
      else if (options.detach) process.stdout.write(`${report.job_id}\n`);
      else if (options.dryRun) printDryRun(entry, report);
      else if (!failed) printJson(report.result);
      if (failed) {
        printFailure({ id: report.job_id, state: report.state, reason: report.reason }, report.error, true);
        process.exitCode = EXIT.jobFailed;
      }
    });
}
