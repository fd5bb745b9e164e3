// A job's keyword arguments travel as JSON text, from what the user gave to the runner's json.loads, and are
// never parsed into JavaScript values and written out again on the way: JSON.parse turns 1.0 into 1 (the
// function would get an int, not a float) and rounds integers past 2**53, and JSON.stringify turns 1e400
// into null. The text is checked to be one JSON object; job.json and the job's record hold it as given.
import { InputError } from "../util/errors.js";
import { isObject } from "../util/json-file.js";

/** The JSON text of an object of keyword arguments, as given (see argsText and argsFromValues). */
export type ArgsJson = string & { readonly __argsJson: true };

export const NO_ARGS = "{}" as ArgsJson;

/** `text` when it is the JSON text of an object, else null (not JSON, or another kind of value). */
export function asArgsJson(text: string): ArgsJson | null {
  try {
    return isObject(JSON.parse(text)) ? (text.trim() as ArgsJson) : null;
  } catch {
    return null;
  }
}

/** The user's JSON text (--args, --args-file, a line of map's list), checked; `source` names it in the error. */
export function argsText(text: string, source: string, example = `'{"n": 20}'`): ArgsJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${source}: not valid JSON (${(error as Error).message}); example: ${example}`);
  }
  if (!isObject(value)) {
    throw new InputError(`${source}: expected a JSON object of keyword arguments such as ${example}, got ${Array.isArray(value) ? "a list" : JSON.stringify(value)}`);
  }
  return text.trim() as ArgsJson;
}

/**
 * JavaScript values (the API) as JSON text, refusing what JSON.stringify would change without a word: NaN and
 * the infinities (null), undefined and functions (dropped), and objects other than plain ones and arrays
 * (a Date, a Map). A bigint is written as its exact digits, so an integer past 2**53 can be passed.
 */
export function argsFromValues(values: Record<string, unknown>, source = "args"): ArgsJson {
  if (!isObject(values)) throw new InputError(`${source}: expected an object of keyword arguments such as { n: 20 }`);
  return jsonOf(values, source, new Set()) as ArgsJson;
}

/** `inside`: the objects and arrays that hold this value, to refuse a cycle rather than recurse forever. */
function jsonOf(value: unknown, path: string, inside: Set<object>): string {
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "bigint":
      return value.toString();
    case "number":
      if (Number.isFinite(value)) return JSON.stringify(value);
      throw new InputError(`${path}: ${value} has no JSON form; pass a string, or compute it in the function`);
    case "object": {
      if (value === null) return "null";
      if (inside.has(value)) throw new InputError(`${path}: refers to an object that holds it (a cycle), which JSON cannot hold`);
      const prototype = Object.getPrototypeOf(value);
      inside.add(value);
      try {
        if (Array.isArray(value)) return `[${Array.from(value, (item, i) => jsonOf(item, `${path}[${i}]`, inside)).join(",")}]`; // a hole is undefined
        if (prototype === Object.prototype || prototype === null) {
          return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}:${jsonOf(item, `${path}.${key}`, inside)}`).join(",")}}`;
        }
      } finally {
        inside.delete(value);
      }
      throw new InputError(`${path}: a ${prototype?.constructor?.name ?? "object"} cannot be passed to Python; pass plain objects, arrays, strings, numbers, booleans or null`);
    }
    default:
      throw new InputError(`${path}: ${typeof value} cannot be passed to Python (JSON would drop it); pass null instead`);
  }
}

/** Whether any keyword argument is given. */
export function hasArgs(args: ArgsJson): boolean {
  return Object.keys(JSON.parse(args) as object).length > 0;
}

/** The JSON text of `fields` with "args" first, its value the arguments' own text. */
export function withArgsText(args: ArgsJson, fields: object): string {
  const rest = JSON.stringify(fields);
  return rest === "{}" ? `{"args":${args}}` : `{"args":${args},${rest.slice(1)}`;
}
