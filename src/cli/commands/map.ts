// slurmray map ENTRY --args-file list.jsonl: the entry once per line, as one job array. One line per element
// on stdout (or one JSON object with `elements`), in input order; exit 1 when any element did not complete.
import { Command } from "@commander-js/extra-typings";
import type { ElementOutcome, MapReport } from "../../jobs/map.js";
import { type ArgsJson, argsText } from "../../model/job-args.js";
import type { PrintableResult } from "../../model/outcome.js";
import { EXIT, InputError } from "../../util/errors.js";
import { JsonText } from "../../util/json-text.js";
import { envVariable, readArgsFile, resourceOptions, targetName, wholeNumber } from "../flags.js";
import { interruptSignal } from "../interrupt.js";
import { jobsLayer } from "../lazy.js";
import { info, printFailure, printJson } from "../output.js";
import { passwordProvider } from "../password.js";
import { progressFor } from "../progress.js";

/** JSON lines: one object of keyword arguments per non-empty line, each line's text kept as given. */
export function readArgsLines(file: string): ArgsJson[] {
  const lines = readArgsFile(file).split("\n");
  return lines.flatMap((line, i) => (line.trim() === "" ? [] : [argsText(line, `--args-file ${file}, line ${i + 1}`, '{"seed": 1}')]));
}

/** A result on one line: the value's text as Python wrote it (json.dumps writes no newline), or the pickle's description. */
function oneLine(result: PrintableResult): string {
  return result instanceof JsonText ? result.bytes.toString("utf8") : JSON.stringify(result);
}

/** One line per element on stdout; each failure once on stderr with its index and traceback. Exit 1 if any failed. */
export function printElements(jobId: string, elements: readonly ElementOutcome[]): void {
  for (const element of elements) {
    const detail = element.state === "COMPLETED" ? oneLine(element.result) : element.error ? `${element.error.type}: ${element.error.message}` : (element.reason ?? "");
    process.stdout.write(`${element.index}\t${element.state}\t${detail}\n`);
  }
  const failed = elements.filter((element) => element.state !== "COMPLETED");
  // A cancelled element's traceback only shows where the signal came: its summary line says enough.
  for (const element of failed) printFailure({ id: element.id, state: element.state, reason: element.reason }, element.error, element.state === "CANCELLED");
  if (failed.length > 0) {
    info(`${failed.length} of ${elements.length} element(s) of job ${jobId} did not complete; rerun them with: slurmray map --retry-failed ${jobId}`);
    process.exitCode = EXIT.jobFailed;
  }
}

export function printMapReport(report: MapReport, json: boolean, detach: boolean): void {
  if (json) printJson(report);
  else if (detach) process.stdout.write(`${report.job_id}\n`);
  if (!detach) {
    if (!json) printElements(report.job_id, report.elements);
    else if (report.elements.some((element) => element.state !== "COMPLETED")) process.exitCode = EXIT.jobFailed;
  }
}

export function mapCommand() {
  return resourceOptions(
    new Command("map")
      .description("run a function once per line of a JSON-lines file, as one job array; results in input order")
      .argument("[entry]", "path/to/file.py:function or package.module:function")
      .option("--args-file <file>", "JSON lines: one object of keyword arguments per element")
      .option("--max-parallel <n>", "at most this many elements run at once (default: all)", wholeNumber("--max-parallel", { min: 1, max: 1000 }))
      .option("--retry-failed <job>", "submit again the elements of this array that did not complete")
      .option("--target <name>", "target from slurmray.toml (default: project.default_target, else local)", targetName)
      .option("--env <name=value>", "an environment variable for every element (repeat for more)", envVariable),
  )
    .option("--detach", "print the job id and return once the array is submitted")
    .option("--accept-new-host-key", "record the host key of a host seen for the first time (like ssh's accept-new)")
    .option("--json", "print one JSON object with an `elements` list on stdout")
    .action(async (entry, options) => {
      if (options.retryFailed !== undefined && (entry !== undefined || options.argsFile !== undefined || options.env !== undefined)) {
        throw new InputError("map --retry-failed JOB reruns that array's failed elements with their own arguments and environment: give no ENTRY, --args-file or --env with it");
      }
      if (options.retryFailed === undefined && (entry === undefined || options.argsFile === undefined)) {
        throw new InputError("map: give ENTRY and --args-file list.jsonl (one JSON object per line), or --retry-failed JOB");
      }
      const argsList = options.argsFile === undefined ? [] : readArgsLines(options.argsFile);
      const signal = interruptSignal("stopping: the array is cancelled if it was submitted");
      const [{ loadConfig }, { checkArgsCount, mapJob, retryFailed }] = await jobsLayer(() => Promise.all([import("../../config/load.js"), import("../../jobs/map.js")]));
      if (options.argsFile !== undefined) checkArgsCount(argsList, `--args-file ${options.argsFile}`);
      const config = loadConfig(process.cwd());
      const progress = await progressFor();
      const common = {
        cwd: process.cwd(),
        connect: { acceptNewHostKey: options.acceptNewHostKey, password: passwordProvider(config.env) },
        signal,
        onProgress: (message: string) => progress.note(message),
        onWarning: (message: string) => progress.warning(message),
        onStep: progress.step.bind(progress),
      };
      const report = await (options.retryFailed !== undefined
        ? retryFailed({ ...common, job: options.retryFailed })
        : mapJob({
            ...common,
            entry: entry!,
            argsList,
            maxParallel: options.maxParallel,
            target: options.target,
            resources: { cpus: options.cpus, mem: options.mem, gpus: options.gpus, time: options.time, partition: options.partition },
            env: options.env,
            detach: options.detach ?? false,
            dryRun: false,
          })
      ).finally(() => progress.stop());
      printMapReport(report, options.json ?? false, options.detach ?? false);
    });
}
