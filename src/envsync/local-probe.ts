// The project interpreter's installed distributions, read by one run of envprobe.py and cached: when the
// interpreter and the directories on its sys.path have not changed (same mtimes), no Python starts at all.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { remoteFile } from "../remote/index.js";
import { InputError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { fail, isObject, readCache } from "../util/json-file.js";
import { isProbedEnvironment, type ProbedEnvironment } from "./distributions.js";

const PROBE = "envprobe.py";
// Bumped when the cached shape changes, so an older cache is not misread.
const CACHE_VERSION = 1;

interface ProbeCache {
  version: number;
  python: string;
  probeHash: string;
  /** path → mtimeMs of the interpreter and of every sys.path directory, at the time of the probe. */
  stats: Record<string, number>;
  probe: ProbedEnvironment;
}

/** A bare command name ("python3") as the absolute path PATH gives it, so it can be stat'ed. */
function onPath(command: string): string {
  if (command.includes("/")) return command;
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const candidate = join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new InputError(`the project interpreter "${command}" is not on PATH; set project.interpreter in slurmray.toml`);
}

function mtime(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

function probeScriptHash(): string {
  return String(readFileSync(remoteFile(PROBE)).length) + String(mtime(remoteFile(PROBE)));
}

function checkProbeCache(value: unknown): ProbeCache {
  const valid =
    isObject(value) &&
    typeof value.python === "string" &&
    typeof value.probeHash === "string" &&
    isObject(value.stats) &&
    Object.values(value.stats).every((n) => typeof n === "number") &&
    isProbedEnvironment(value.probe);
  return valid ? (value as unknown as ProbeCache) : fail("expected a probe cache");
}

function readProbeCache(file: string, python: string): ProbedEnvironment | null {
  const cache = readCache(file, checkProbeCache);
  if (!cache || cache.version !== CACHE_VERSION || cache.python !== python || cache.probeHash !== probeScriptHash()) return null;
  const unchanged = Object.entries(cache.stats).every(([path, stamp]) => mtime(path) === stamp);
  return unchanged ? cache.probe : null;
}

async function runProbe(python: string, cwd: string): Promise<ProbedEnvironment> {
  try {
    const { stdout } = await promisify(execFile)(python, [remoteFile(PROBE)], { cwd, maxBuffer: 64 << 20, timeout: 60_000 });
    return JSON.parse(stdout) as ProbedEnvironment;
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new InputError(`could not read the installed packages of the project interpreter ${python}: ${detail}`);
  }
}

/** The project interpreter's environment, from the cache in `cacheDir` when nothing changed since. */
export async function probeLocalEnvironment(python: string, cwd: string, cacheDir: string): Promise<ProbedEnvironment> {
  const resolved = onPath(python);
  const file = join(cacheDir, "local-env.json");
  const cached = readProbeCache(file, resolved);
  if (cached) return cached;
  const probe = await runProbe(resolved, cwd);
  const stats: Record<string, number> = {};
  for (const path of [resolved, probe.executable, ...probe.path]) {
    const value = mtime(path);
    if (value !== null) stats[path] = value;
  }
  const entry: ProbeCache = { version: CACHE_VERSION, python: resolved, probeHash: probeScriptHash(), stats, probe };
  writeJsonAtomic(file, entry);
  return probe;
}
