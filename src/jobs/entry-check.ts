// The entry is checked locally before anything is sent: its file exists (parseEntry) and the function is
// defined there. A misspelled function is exit 2 at once, not a failed job hours later on a busy queue.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { functionStatus } from "../codesync/imports.js";
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
 * Refuses an entry whose function the file does not define (exit 2). Returns a warning when only a star
 * import could define it. Scripts and modules outside the project are not checked.
 */
export function checkEntryFunction(python: string, root: string, entry: string, cacheDir?: string): string | null {
  const colon = entry.lastIndexOf(":");
  const file = entrySourceFile(root, entry);
  if (colon === -1 || file === null) return null;
  const name = entry.slice(colon + 1);
  const status = functionStatus(python, root, file, name, cacheDir);
  if (status.function === "defined") return null;
  if (status.function === "star") return `${file} does not define ${name} by name; it may come from a star import (not checked)`;
  if (status.function === "unparsable") throw new InputError(`entry ${entry}: ${file} does not parse (${status.detail}); fix the syntax error first`);
  const known = status.detail ? ` (it defines: ${status.detail})` : "";
  throw new InputError(`entry ${entry}: ${file} defines no top-level ${JSON.stringify(name)}${known}; check the spelling`);
}
