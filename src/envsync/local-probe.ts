// The project interpreter's installed distributions, read by one run of envprobe.py and cached: when the
// interpreter, the directories on its sys.path and the user site dir (even while it does not exist) keep their
// change times, and the variables that change sys.path are the same, no Python starts at all.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { remoteFile } from "../remote/index.js";
import { InputError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { fail, isObject, readCache } from "../util/json-file.js";
import { racilyRecent } from "../util/racy.js";
import { isProbedEnvironment, type ProbedEnvironment } from "./distributions.js";

const PROBE = "envprobe.py";
// Bumped when the cached shape changes, so an older cache is not misread (2: change times, absent paths,
// the variables).
const CACHE_VERSION = 2;
/** The stamp of a path that does not exist. */
const ABSENT = -1;
/** What decides sys.path besides the interpreter and its files. */
const PATH_VARIABLES = ["PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "PYTHONUSERBASE", "PYTHONPLATLIBDIR"];

interface ProbeCache {
  version: number;
  python: string;
  probeHash: string;
  /** PATH_VARIABLES' values when probed. */
  variables: string;
  /**
   * path → change time (ctime: nothing sets it back, unlike an mtime) of the interpreter, every sys.path
   * directory and the user site dir, ABSENT for one that did not exist, at the time of the probe.
   */
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

function changeTime(path: string): number {
  try {
    return statSync(path).ctimeMs;
  } catch {
    return ABSENT;
  }
}

function pathVariables(): string {
  return JSON.stringify(PATH_VARIABLES.map((name) => process.env[name] ?? null));
}

function probeScriptHash(): string {
  return String(readFileSync(remoteFile(PROBE)).length) + String(changeTime(remoteFile(PROBE)));
}

function checkProbeCache(value: unknown): ProbeCache {
  const valid =
    isObject(value) &&
    typeof value.python === "string" &&
    typeof value.probeHash === "string" &&
    typeof value.variables === "string" &&
    isObject(value.stats) &&
    Object.values(value.stats).every((n) => typeof n === "number") &&
    isProbedEnvironment(value.probe);
  return valid ? (value as unknown as ProbeCache) : fail("expected a probe cache");
}

function readProbeCache(file: string, python: string): ProbedEnvironment | null {
  const cache = readCache(file, checkProbeCache);
  if (!cache || cache.version !== CACHE_VERSION || cache.python !== python || cache.probeHash !== probeScriptHash() || cache.variables !== pathVariables()) return null;
  const unchanged = Object.entries(cache.stats).every(([path, stamp]) => changeTime(path) === stamp);
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
  const started = Date.now();
  const probe = await runProbe(resolved, cwd);
  const paths = [resolved, probe.executable, ...probe.path, ...(probe.user_site ? [probe.user_site] : [])];
  const stats = Object.fromEntries(paths.map((path) => [path, changeTime(path)]));
  // Stamped after the probe: a path changed since it started (or within the clock's tick before) may hold
  // what the probe did not see, so such a probe is not kept.
  if (Object.values(stats).some((stamp) => stamp !== ABSENT && racilyRecent(stamp, started))) return probe;
  const entry: ProbeCache = { version: CACHE_VERSION, python: resolved, probeHash: probeScriptHash(), variables: pathVariables(), stats, probe };
  writeJsonAtomic(file, entry);
  return probe;
}
