// Drives src/remote/queue.py as a backend does (one python3 command per operation, JSON out), on a temp
// root-owned sticky queue dir, and calls its pure functions directly.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { scratchDir } from "../../helpers/scratch.js";

export const queuePy = fileURLToPath(new URL("../../../src/remote/queue.py", import.meta.url));

/** Calls queue.py's function `fn` with JSON arguments and returns its JSON result. */
export function callPy(fn: string, ...args: unknown[]): unknown {
  const code = [
    "import importlib.util, json, sys",
    "spec = importlib.util.spec_from_file_location('slurmray_queue', sys.argv[1])",
    "q = importlib.util.module_from_spec(spec); spec.loader.exec_module(q)",
    "try:",
    "    print(json.dumps(getattr(q, sys.argv[2])(*json.loads(sys.argv[3]))))",
    "except q.QueueError as e:",
    "    print(json.dumps({'error': str(e), 'code': e.code}))",
  ].join("\n");
  const out = spawnSync("python3", ["-c", code, queuePy, fn, JSON.stringify(args)], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`${fn} failed: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

export interface QueueRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
}

/** Runs `python3 queue.py --queue-dir DIR ARGS...` and parses its one JSON document. */
export function runQueue(dir: string, args: string[]): QueueRun {
  const out = spawnSync("python3", [queuePy, "--queue-dir", dir, ...args], { encoding: "utf8", timeout: 30_000 });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(out.stdout);
  } catch {
    // left empty: the test asserts on code and stderr
  }
  return { code: out.status, stdout: out.stdout, stderr: out.stderr, json };
}

const created: string[] = [];
const queues: string[] = [];

/** Root can create the root-owned 1777 dir the queue demands; anyone else skips (returns false). */
export function requireRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  t.skip("needs root to create a root-owned sticky queue dir");
  return false;
}

/** A fresh root-owned queue dir of mode 1777 (as an admin makes it), removed by removeCreated(). */
export function makeQueueDir(): string {
  const base = scratchDir("srq-unit-");
  created.push(base);
  const dir = join(base, "queue");
  queues.push(dir);
  mkdirSync(dir);
  chownSync(dir, 0, 0);
  chmodSync(dir, 0o1777);
  return dir;
}

/** A temp job dir. */
export function makeJobDir(): string {
  const dir = scratchDir("srq-job-");
  created.push(dir);
  return dir;
}

/** Cancels whatever is still active in the queue dirs made here, then removes every dir the tests created. */
export function removeCreated(): void {
  for (const dir of queues.splice(0)) {
    const active = runQueue(dir, ["active"]).json["ids"];
    for (const id of Array.isArray(active) ? active : []) runQueue(dir, ["cancel", String(id)]);
  }
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The JSON files in a user's queue dir. */
export function entryFiles(dir: string, user: string): string[] {
  try {
    return readdirSync(join(dir, user)).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value (not undefined), or throws after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
