// The Slurm parameters a job may set, validated before anything is sent. An unknown key is refused with
// the list of valid ones and their defaults; a bad value names the key and what is allowed. Values end
// up in #SBATCH lines, which sbatch parses itself (no shell), so each is held to a strict character set.
import { BUILTIN_RESOURCES } from "../../config/target.js";
import type { Resources } from "../../model/job.js";
import { MEM_MAX_GB, WHOLE_LIMITS } from "../../model/resource-limits.js";
import { InputError } from "../../util/errors.js";

/** A job's resources (nodes, cpus, mem GB per node, gpus per node, time minutes, partition) and Slurm's own. */
export interface SlurmParams extends Resources {
  account: string | null;
  qos: string | null;
  constraint: string | null;
}

interface ParamSpec {
  /** What is allowed, for messages: "a whole number from 1 to 1024". */
  allowed: string;
  check(value: unknown): boolean;
}

const wholeNumber = ({ min, max }: { min: number; max: number }): ParamSpec => ({
  allowed: `a whole number from ${min} to ${max}`,
  check: (v) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max,
});

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const nameLike = (what: string, pattern: RegExp): ParamSpec => ({
  allowed: `${what}, or null for the cluster's default`,
  check: (v) => v === null || (typeof v === "string" && v.length <= 256 && pattern.test(v)),
});

const SPECS: Record<keyof SlurmParams, ParamSpec> = {
  nodes: wholeNumber(WHOLE_LIMITS.nodes),
  cpus: wholeNumber(WHOLE_LIMITS.cpus),
  mem: {
    allowed: `a number of GB per node, greater than 0 and at most ${MEM_MAX_GB}`,
    check: (v) => typeof v === "number" && Number.isFinite(v) && v > 0 && v <= MEM_MAX_GB,
  },
  gpus: wholeNumber(WHOLE_LIMITS.gpus),
  time: wholeNumber(WHOLE_LIMITS.time),
  partition: nameLike(
    "a partition name (letters, digits, '.', '_', '-'), or several separated by commas",
    /^[A-Za-z0-9][A-Za-z0-9._-]*(,[A-Za-z0-9][A-Za-z0-9._-]*)*$/,
  ),
  account: nameLike("an account name (letters, digits, '.', '_', '-')", NAME),
  qos: nameLike("a QOS name (letters, digits, '.', '_', '-')", NAME),
  constraint: nameLike("a Slurm constraint expression of features joined by & | , * [ ] ( )", /^[A-Za-z0-9_.:,&|*[\]()-]+$/),
};

const UNITS: Partial<Record<keyof SlurmParams, string>> = { mem: " GB", time: " min" };

export const SLURM_PARAM_DEFAULTS: SlurmParams = {
  ...BUILTIN_RESOURCES,
  account: null,
  qos: null,
  constraint: null,
};

function describeParams(defaults: SlurmParams): string {
  return (Object.keys(SPECS) as (keyof SlurmParams)[])
    .map((key) => {
      const value = defaults[key];
      const shown = value === null ? "cluster default" : `${value}${UNITS[key] ?? ""}`;
      return `  - ${key} (default: ${shown}): ${SPECS[key].allowed}`;
    })
    .join("\n");
}

/**
 * Checks a set of Slurm parameters and fills the missing ones from `defaults` (then the built-in ones).
 * Throws InputError (exit 2) for an unknown key or a bad value.
 */
export function validateSlurmParams(params: Record<string, unknown>, defaults: Partial<SlurmParams> = {}): SlurmParams {
  const merged: SlurmParams = { ...SLURM_PARAM_DEFAULTS, ...defaults };
  const unknown = Object.keys(params).filter((key) => !Object.hasOwn(SPECS, key));
  if (unknown.length > 0) {
    const names = unknown.map((k) => JSON.stringify(k)).join(", ");
    throw new InputError(`unknown Slurm parameter${unknown.length > 1 ? "s" : ""} ${names}. Valid parameters are:\n${describeParams(merged)}`);
  }
  for (const [key, value] of Object.entries(params) as [keyof SlurmParams, unknown][]) {
    if (value === undefined) continue;
    if (!SPECS[key].check(value)) {
      throw new InputError(`Slurm parameter "${key}" is ${JSON.stringify(value)}; it must be ${SPECS[key].allowed}`);
    }
    (merged as unknown as Record<string, unknown>)[key] = value;
  }
  return merged;
}
