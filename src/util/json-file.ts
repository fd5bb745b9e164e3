// Local JSON files (job records, caches) are read through here: parsed and checked before use, so a
// corrupt or tampered file is named, never a raw SyntaxError from somewhere deep in a command.
import { readFileSync, rmSync } from "node:fs";

/** Checks a parsed value: returns it typed, or throws an Error whose message says what is wrong. */
export type Check<T> = (value: unknown) => T;

/** The file's checked content, or the reason it is unusable (unreadable, not JSON, wrong shape). */
export function readJsonChecked<T>(path: string, check: Check<T>): { value: T } | { problem: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return { problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: "is not valid JSON" };
  }
  try {
    return { value: check(parsed) };
  } catch (error) {
    return { problem: `is not a valid record: ${(error as Error).message}` };
  }
}

/**
 * A cache file's checked content, or null when it is missing or invalid. An invalid cache is removed:
 * it is rebuilt from the source it caches.
 */
export function readCache<T>(path: string, check: Check<T>): T | null {
  const read = readJsonChecked(path, check);
  if ("value" in read) return read.value;
  if (!read.problem.startsWith("cannot be read")) rmSync(path, { force: true });
  return null;
}

/** A small check helper: an object with these typed fields. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Throws the Error a Check throws for a wrong shape (usable in an expression). */
export function fail(message: string): never {
  throw new Error(message);
}
