// Runs src/remote/runner.py the way a backend does: python3 runner.py JOB_DIR with stdout and
// stderr redirected to JOB_DIR/job.log, on a temp job dir holding the given job.json.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { scratchDir } from "../../helpers/scratch.js";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const runnerPath = join(repoRoot, "src/remote/runner.py");
export const projectDir = join(repoRoot, "test/fixtures/runner/project");
export const fakeRayDir = join(repoRoot, "test/fixtures/runner/fake-ray");

/** A locale where Python would pick ASCII on its own: the runner must still do UTF-8. */
export const asciiLocale = { LC_ALL: "C", LANG: "C", PYTHONCOERCECLOCALE: "0", PYTHONUTF8: "0" };

export interface RunOptions {
  /** Extra environment for the python3 process (not job.json's env). */
  env?: Record<string, string>;
  /** Another copy of runner.py to run. */
  runner?: string;
}

export interface JobDir {
  dir: string;
  /** Parsed JSON file of the job dir. */
  json(name: string): Record<string, unknown>;
  has(name: string): boolean;
  log(): string;
}

export interface Started extends JobDir {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface Finished extends JobDir {
  code: number | null;
}

const created: string[] = [];

/** A temp job dir with job.json; `job` is written as is (a string is written raw). */
export function makeJobDir(job: Record<string, unknown> | string): JobDir {
  // A non-ASCII dir name: paths must survive any locale too.
  const dir = scratchDir("srrunner-ü-");
  created.push(dir);
  writeFileSync(join(dir, "job.json"), typeof job === "string" ? job : JSON.stringify(job));
  return {
    dir,
    json: (name) => JSON.parse(readFileSync(join(dir, name), "utf8")),
    has: (name) => existsSync(join(dir, name)),
    log: () => readFileSync(join(dir, "job.log"), "utf8"),
  };
}

export function startRunner(job: Record<string, unknown> | string, options: RunOptions = {}): Started {
  const jobDir = makeJobDir(job);
  const log = openSync(join(jobDir.dir, "job.log"), "a");
  const child = spawn("python3", [options.runner ?? runnerPath, jobDir.dir], {
    stdio: ["ignore", log, log],
    // No __pycache__ written into the fixtures of the repository; unbuffered output is the runner's job.
    env: { ...process.env, PYTHONUNBUFFERED: undefined, PYTHONDONTWRITEBYTECODE: "1", ...options.env },
  });
  closeSync(log);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`runner did not exit within 60 s; log:\n${jobDir.log().slice(-2000)}`));
    }, 60_000);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  return { ...jobDir, child, exited };
}

export async function runRunner(job: Record<string, unknown> | string, options: RunOptions = {}): Promise<Finished> {
  const started = startRunner(job, options);
  const { code } = await started.exited;
  return { ...started, code };
}

/** A job.json for `entry` run from the fixture project. */
export function job(entry: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { entry, args: {}, script_args: [], env: {}, code_dir: projectDir, ray: null, ...fields };
}

/** Waits until `check` holds, polling every 50 ms, for at most `ms`. */
export async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function removeJobDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}
