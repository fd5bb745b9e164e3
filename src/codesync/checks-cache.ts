// A cache of importcheck.py's answers (the entry check and the import check), so that a warm run with nothing
// changed starts no local Python. An answer is reused only while everything it depends on is unchanged:
// - the key: the interpreter (its resolved file's identity: the Python version decides what parses), the
//   script's content, the working dir, the arguments and stdin (the root, the entry file, the function name,
//   the selected set);
// - the inputs the script reports: the sha256 of every file it read, and whether each path it looked up was
//   a file (a module created or removed changes the answer).
// Anything unusual (an interpreter named without a path or that is a script, an input the script could not
// read) is not cached.
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../util/fs.js";
import { isObject, readCache } from "../util/json-file.js";
import { isSha256, sha256 } from "./manifest.js";

/** The answers kept, newest first: enough for a few entries and selections in turn, small to read. */
const KEEP = 16;

export interface CheckRequest {
  /** The project's cache dir; no cache when absent. */
  cacheDir: string | undefined;
  python: string;
  script: string;
  args: readonly string[];
  input: Buffer;
  /** Whether a cached answer has the shape `run` returns (the cache file is checked, like every cache). */
  valid: (answer: Record<string, unknown>) => boolean;
}

interface CheckInputs {
  files: Record<string, string>;
  lookups: Record<string, boolean>;
}

interface CachedAnswer {
  key: string;
  inputs: CheckInputs;
  answer: Record<string, unknown>;
}

export function checksCacheFile(cacheDir: string): string {
  return join(cacheDir, "import-checks.json");
}

/** The answer for `request`: the cached one while its key and inputs hold, else `run()`'s (then cached). */
export function cachedCheck<T>(request: CheckRequest, run: () => T & { inputs: unknown }): T {
  const key = request.cacheDir ? cacheKey(request) : null;
  if (!key || !request.cacheDir) return run();
  const file = checksCacheFile(request.cacheDir);
  const entries = cachedEntries(file);
  const hit = entries.find((e) => e.key === key);
  if (hit && request.valid(hit.answer) && inputsHold(hit.inputs)) return hit.answer as T;
  const fresh = run();
  const { inputs, ...answer } = fresh;
  if (isInputs(inputs)) {
    const kept = entries.filter((e) => e.key !== key).slice(0, KEEP - 1);
    try {
      writeJsonAtomic(file, [{ key, inputs, answer }, ...kept]);
    } catch {
      // A project dir we cannot write to (read-only checkout): the answer stands, uncached.
    }
  }
  return answer as T;
}

/**
 * The key, or null when the interpreter cannot be pinned to one file: a bare name is looked up on PATH, and a
 * script (a pyenv shim, a wrapper) may start a different Python each time.
 */
function cacheKey(request: CheckRequest): string | null {
  if (!request.python.includes("/")) return null;
  let interpreter: string;
  try {
    const real = realpathSync(request.python);
    const s = statSync(real);
    if (!s.isFile() || isScript(real)) return null;
    interpreter = `${real}\0${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return null;
  }
  const hash = createHash("sha256");
  // The working dir too: the script makes a relative root absolute from it.
  for (const part of [interpreter, readFileSync(request.script), process.cwd(), ...request.args]) hash.update(sha256(part)).update("\0");
  return hash.update(sha256(request.input)).digest("hex");
}

function isScript(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head.toString("latin1") === "#!";
  } finally {
    closeSync(fd);
  }
}

/** Whether every file the answer read has the same content, and every lookup the same result. */
function inputsHold(inputs: CheckInputs): boolean {
  for (const [path, digest] of Object.entries(inputs.files)) {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch {
      return false;
    }
    if (sha256(data) !== digest) return false;
  }
  return Object.entries(inputs.lookups).every(([path, wasFile]) => isFile(path) === wasFile);
}

/** Like Python's os.path.isfile: follows links, false on any error. */
function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isInputs(value: unknown): value is CheckInputs {
  return (
    isObject(value) &&
    isObject(value.files) &&
    isObject(value.lookups) &&
    Object.values(value.files).every((d) => typeof d === "string" && isSha256(d)) &&
    Object.values(value.lookups).every((b) => typeof b === "boolean")
  );
}

/** The cached answers; none when the file is missing, invalid, or cannot be removed once invalid. */
function cachedEntries(file: string): CachedAnswer[] {
  try {
    return readCache(file, checkEntries) ?? [];
  } catch {
    return [];
  }
}

function checkEntries(value: unknown): CachedAnswer[] {
  if (!Array.isArray(value)) throw new Error("expected a list");
  for (const e of value) {
    if (!isObject(e) || typeof e.key !== "string" || !isInputs(e.inputs) || !isObject(e.answer)) throw new Error("expected {key, inputs, answer}");
  }
  return value as CachedAnswer[];
}
