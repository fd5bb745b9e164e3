// The entry is checked locally before anything is sent: its file exists (parseEntry), the function is
// defined there, and it takes the keyword arguments given. A misspelled function or argument is exit 2 at
// once, not a failed job hours later on a busy queue.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { functionStatus, type Parameters } from "../codesync/imports.js";
import type { ArgsJson } from "../model/job-args.js";
import { InputError } from "../util/errors.js";

/** The project file an entry starts from (relative to root), or null for a module that is not a project file. */
export function entrySourceFile(root: string, entry: string): string | null {
  const target = entry.includes(":") ? entry.slice(0, entry.lastIndexOf(":")) : entry;
  if (target.endsWith(".py")) return existsSync(join(root, target)) ? target : null;
  const base = target.replaceAll(".", "/");
  for (const file of [`${base}.py`, `${base}/__init__.py`]) if (existsSync(join(root, file))) return file;
  return null;
}

/**
 * Refuses an entry whose function the file does not define, or that does not take the keyword arguments of
 * one of `argSets` (run's one set, or each of map's elements): exit 2. Returns a warning when only a star
 * import could define it. Scripts and modules outside the project are not checked, nor arguments of a
 * function that a decorator or another binding may change.
 */
export function checkEntryFunction(python: string, root: string, entry: string, argSets: readonly ArgsJson[], cacheDir?: string): string | null {
  const colon = entry.lastIndexOf(":");
  const file = entrySourceFile(root, entry);
  if (colon === -1 || file === null) return null;
  const name = entry.slice(colon + 1);
  const status = functionStatus(python, root, file, name, cacheDir);
  if (status.function === "defined") {
    const { parameters } = status;
    if (parameters) for (const [i, args] of argSets.entries()) checkArguments(entry, name, parameters, args, argSets.length > 1 ? `element ${i}` : "the arguments");
    return null;
  }
  if (status.function === "star") return `${file} does not define ${name} by name; it may come from a star import (not checked)`;
  if (status.function === "unparsable") throw new InputError(`entry ${entry}: ${file} does not parse (${status.detail}); fix the syntax error first`);
  const known = status.detail ? ` (it defines: ${status.detail})` : "";
  throw new InputError(`entry ${entry}: ${file} defines no top-level ${JSON.stringify(name)}${known}; check the spelling`);
}

/** Refuses keyword arguments the function would refuse with a TypeError: an unknown name, a required one missing. */
function checkArguments(entry: string, name: string, parameters: Parameters, args: ArgsJson, where: string): void {
  const keys = Object.keys(JSON.parse(args) as object);
  const quoted = (names: string[]) => names.map((key) => JSON.stringify(key)).join(", ");
  if (parameters.positional_only.length) {
    throw new InputError(`entry ${entry}: ${name}() takes ${quoted(parameters.positional_only)} by position only, which keyword arguments cannot give: give it a default, or drop the "/"`);
  }
  const unknown = parameters.any ? [] : keys.filter((key) => !parameters.names.includes(key));
  if (unknown.length) {
    const takes = parameters.names.length ? `it takes ${parameters.names.join(", ")}` : "it takes none";
    throw new InputError(`entry ${entry}: ${name}() has no parameter ${quoted(unknown)} (given in ${where}); ${takes}: check the spelling`);
  }
  const missing = parameters.required.filter((key) => !keys.includes(key));
  if (missing.length) throw new InputError(`entry ${entry}: ${name}() needs ${quoted(missing)}, not given in ${where}`);
}
