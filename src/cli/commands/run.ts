// slurmray run ENTRY: the main command. Logs stream to stderr, the result goes to stdout.
import { Command } from "@commander-js/extra-typings";
import { runJob } from "../../jobs/run.js";
import { formatRemoteError } from "../../jobs/outcome.js";
import { EXIT, InterruptedError } from "../../util/errors.js";
import { parseArgs, partitionName, positiveNumber, targetName, wholeNumber } from "../flags.js";
import { info, printJson, warn } from "../output.js";
import { interruptSignal } from "../interrupt.js";

export function runCommand() {
  return new Command("run")
    .description("run a Python function or script on a target and print its result")
    .argument("<entry>", "path/to/file.py:function, package.module:function, or path/to/script.py")
    .argument("[script_args...]", "arguments for a script (after --)")
    .option("--args <json>", "keyword arguments as a JSON object")
    .option("--args-file <file>", "keyword arguments from a JSON file")
    .option("--target <name>", "target from slurmray.toml (default: project.default_target, else local)", targetName)
    .option("--nodes <n>", "number of nodes", wholeNumber("--nodes", 1, 1024))
    .option("--cpus <n>", "CPUs per node", wholeNumber("--cpus", 1, 4096))
    .option("--mem <gb>", "memory per node in GB", positiveNumber("--mem", 65536))
    .option("--gpus <n>", "GPUs per node", wholeNumber("--gpus", 0, 64))
    .option("--time <minutes>", "time limit in minutes", wholeNumber("--time", 1, 525600))
    .option("--partition <name>", "Slurm partition", partitionName)
    .option("--ray", "start Ray across the allocated nodes (default when --nodes > 1)")
    .option("--no-ray", "do not start Ray")
    .option("--detach", "print the job id and return at once")
    .option("--dry-run", "check everything and show what would run, without running it")
    .option("--json", "print one JSON object on stdout; human text goes to stderr")
    .action(async (entry, scriptArgs, options) => {
      const signal = interruptSignal();
      const report = await runJob({
        cwd: process.cwd(),
        entry,
        args: parseArgs(options.args, options.argsFile),
        scriptArgs,
        target: options.target,
        resources: { nodes: options.nodes, cpus: options.cpus, mem: options.mem, gpus: options.gpus, time: options.time, partition: options.partition },
        ray: options.ray,
        detach: options.detach ?? false,
        dryRun: options.dryRun ?? false,
        signal,
        onLog: (text) => process.stderr.write(text),
        onProgress: info,
      }).catch((error: unknown) => {
        if (error instanceof InterruptedError) info(error.message);
        throw error;
      });
      for (const warning of report.warnings) warn(warning);
      const failed = report.state !== "COMPLETED" && report.state !== "PLANNED" && !options.detach;
      if (options.json) printJson(report);
      else if (options.detach) process.stdout.write(`${report.job_id}\n`);
      else if (options.dryRun) info(`dry run: would run ${entry} on ${report.target} as job ${report.job_id}`);
      else if (!failed) printJson(report.result);
      if (failed) {
        process.stderr.write(report.error ? `${formatRemoteError(report.error)}\n` : "");
        info(`job ${report.job_id} ended ${report.state}`);
        process.exitCode = EXIT.jobFailed;
      }
    });
}
