// Flag value parsers. A bad value is an InputError naming the flag and what is allowed (exit code 2).
import type { Command, OptionValues } from "@commander-js/extra-typings";
import { readFileSync } from "node:fs";
import { type ArgsJson, argsText, NO_ARGS } from "../model/job-args.js";
import { ENV_NAME, ENV_NAME_RULE } from "../model/job-env.js";
import { MEM_MAX_GB, PARTITION_NAME, PARTITION_RULE, WHOLE_LIMITS } from "../model/resource-limits.js";
import { InputError } from "../util/errors.js";

export function wholeNumber(flag: string, { min, max }: { min: number; max: number }) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InputError(`${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return Number(value);
  };
}

export function positiveNumber(flag: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > max) {
      throw new InputError(`${flag}: expected a number of GB above 0 and at most ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

export function partitionName(value: string): string {
  if (!PARTITION_NAME.test(value)) {
    throw new InputError(`--partition: expected ${PARTITION_RULE}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function targetName(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)) {
    throw new InputError(`--target: expected a target name from slurmray.toml, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** --env NAME=VALUE, repeatable: the job's own environment variables (a name given twice keeps its last value). */
export function envVariable(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf("=");
  if (at < 1 || !ENV_NAME.test(value.slice(0, at))) {
    throw new InputError(`--env: expected NAME=VALUE such as OMP_NUM_THREADS=4 (${ENV_NAME_RULE}), got ${JSON.stringify(value)}`);
  }
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

const UNREADABLE: Record<string, string> = { ENOENT: "no such file", EISDIR: "it is a directory", EACCES: "permission denied" };

/** The text of --args-file FILE, or an InputError saying why it cannot be read. */
export function readArgsFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`--args-file ${file}: cannot read the file (${(code && UNREADABLE[code]) ?? code ?? String(error)})`);
  }
}

/** --args JSON / --args-file FILE: a JSON object, passed as keyword arguments, its text kept as given. */
export function parseArgs(json: string | undefined, file: string | undefined): ArgsJson {
  if (json !== undefined && file !== undefined) throw new InputError("--args and --args-file: give one or the other, not both");
  if (file !== undefined) return argsText(readArgsFile(file), `--args-file ${file}`);
  return json === undefined ? NO_ARGS : argsText(json, "--args", `--args '{"n": 20}'`);
}

export function poolKind(value: string): "ray" {
  if (value !== "ray") throw new InputError(`--pool: the only pool is "ray" (Ray's multiprocessing.Pool), got ${JSON.stringify(value)}`);
  return value;
}

/** The per-node resource flags `run` and `map` share. */
export function resourceOptions<Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(command: Command<Args, Opts, Globals>) {
  return command
    .option("--cpus <n>", "CPUs per node", wholeNumber("--cpus", WHOLE_LIMITS.cpus))
    .option("--mem <gb>", "memory per node in GB", positiveNumber("--mem", MEM_MAX_GB))
    .option("--gpus <n>", "GPUs per node", wholeNumber("--gpus", WHOLE_LIMITS.gpus))
    .option("--time <minutes>", "time limit in minutes", wholeNumber("--time", WHOLE_LIMITS.time))
    .option("--partition <name>", "Slurm partition", partitionName);
}
