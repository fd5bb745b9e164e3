// The API's options, checked as the CLI's flags are: a caller in JavaScript has no compiler to catch
// `{ arg: … }` or `resources: { mem: -1 }`, which would otherwise run a job without its arguments or fail
// on the cluster after code and env were sent. Unknown options are refused with the list of valid ones.
import { z } from "zod";
import { formatIssues } from "../config/errors.js";
import { resourceDefaultsSchema } from "../config/schema.js";
import type { ResourceFlags } from "../config/target.js";
import { InputError } from "../util/errors.js";
import { describeResourceLimits, PARTITION_NAME, PARTITION_RULE } from "../model/resource-limits.js";
import { isObject } from "../util/json-file.js";

const resourcesSchema = resourceDefaultsSchema.extend({
  partition: z.string().regex(PARTITION_NAME, PARTITION_RULE).optional(),
});

/** `options` holds only `valid` keys (an undefined value counts as absent). */
export function checkOptionNames(options: unknown, valid: readonly string[], call: string): void {
  if (!isObject(options)) throw new InputError(`${call}: options must be an object such as { ${valid[0]}: … }`);
  const unknown = Object.keys(options).filter((key) => !valid.includes(key) && options[key] !== undefined);
  if (unknown.length > 0) throw new InputError(`${call}: unknown option ${unknown.map((key) => JSON.stringify(key)).join(", ")}; the options are ${valid.join(", ")}`);
}

export function checkResources(resources: unknown): ResourceFlags {
  const parsed = resourcesSchema.safeParse(resources ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    issue.code === "unrecognized_keys" ? `resources: unknown key ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}` : `resources.${formatIssues([issue], resources)[0]}`,
  );
  throw new InputError(`${problems.join("; ")}; the resources are ${describeResourceLimits()}`);
}

export function checkScriptArgs(scriptArgs: unknown): string[] {
  if (scriptArgs === undefined) return [];
  if (!Array.isArray(scriptArgs) || scriptArgs.some((arg) => typeof arg !== "string" || arg.includes("\0"))) {
    throw new InputError('scriptArgs: expected an array of strings (the script\'s sys.argv[1:]), such as ["--epochs", "3"]');
  }
  return scriptArgs;
}

export function checkBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  throw new InputError(`${name}: expected true or false, got ${JSON.stringify(value)}`);
}
