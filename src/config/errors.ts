// Turns zod issues into messages that name the key, the bad value and what is allowed.
import type { z } from "zod";
import { configFileSchema, localTargetSchema, projectSchema, resourceDefaultsSchema, serverTargetSchema, slurmTargetSchema } from "./schema.js";

type Issue = z.core.$ZodIssue;

function keyPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : `${i > 0 ? "." : ""}${String(part)}`)).join("");
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (value !== null && typeof value === "object") return "a table";
  return String(value);
}

const TARGET_SCHEMAS = { slurm: slurmTargetSchema, server: serverTargetSchema, local: localTargetSchema };

/** The keys allowed in the table at `path`, for "unknown key" messages. */
function validKeysAt(input: unknown, path: readonly PropertyKey[]): string[] {
  const [head, , third] = path;
  if (path.length === 0) return Object.keys(configFileSchema.shape);
  if (head === "project") return Object.keys(projectSchema.shape);
  if (head === "targets" && path.length === 2) {
    const kind = (valueAt(input, path) as { kind?: string } | undefined)?.kind;
    const schema = TARGET_SCHEMAS[kind as keyof typeof TARGET_SCHEMAS];
    return schema ? Object.keys(schema.shape) : ["kind"];
  }
  if (head === "targets" && third === "defaults") return Object.keys(resourceDefaultsSchema.shape);
  if (head === "targets" && third === "limits") return ["cpus", "mem", "gpus"];
  return [];
}

function describe(issue: Issue, input: unknown): string {
  const got = show(valueAt(input, issue.path));
  switch (issue.code) {
    case "unrecognized_keys": {
      const valid = validKeysAt(input, issue.path);
      const names = issue.keys.map((k) => JSON.stringify(k)).join(", ");
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${names}; valid keys: ${valid.join(", ")}`;
    }
    case "invalid_type":
      if (got === "nothing") return `is required (${issue.expected === "string" ? "a string" : `a ${issue.expected}`})`;
      return `expected ${issue.expected === "object" ? "a table" : issue.expected === "array" ? "a list" : `a ${issue.expected}`}, got ${got}`;
    case "too_small":
      return issue.origin === "string" || issue.origin === "array"
        ? `must not be empty, got ${got}`
        : `must be at least ${issue.minimum}${issue.inclusive ? "" : " (exclusive)"}, got ${got}`;
    case "too_big":
      return `must be at most ${issue.maximum}, got ${got}`;
    case "invalid_format":
      return `must be ${issue.message}, got ${got}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${got}`;
    case "invalid_union":
      if ("options" in issue && Array.isArray(issue.options)) {
        return `must be one of ${(issue.options as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, got ${got}`;
      }
      return `${issue.message}, got ${got}`;
    case "invalid_key":
      return "must be made of letters, digits, '.', '_' or '-', starting with a letter or digit";
    default:
      return `${issue.message}, got ${got}`;
  }
}

/** One line per problem, each "key: what is wrong". */
export function formatIssues(issues: readonly Issue[], input: unknown): string[] {
  return issues.map((issue) => {
    const key = keyPath(issue.path);
    const where = issue.code === "invalid_key" ? `name ${JSON.stringify(String(issue.path.at(-1)))} in ${keyPath(issue.path.slice(0, -1))}` : key;
    return `${where || "(top level)"}: ${describe(issue, input)}`;
  });
}
