// The lstat of every selected file. One call costs ~2 µs here, so 100,000 files cost ~0.2 s on one
// thread, most of a no-change sync; the promise API is slower still (a thread-pool round trip per call).
// A large selection is split: a worker thread takes the second part while this thread takes the first.
import { lstatSync, type Stats } from "node:fs";
import { Worker } from "node:worker_threads";

/** Below this many paths a worker's start costs more than it saves. */
export const SPLIT_FROM = 10_000;
/** The share of the paths this thread keeps: the worker starts later (~20 ms), so it takes fewer. */
const MAIN_SHARE = 0.55;

/**
 * st_mode, size, ctimeMs, ino per path (statRange writes them); a path that cannot be stat'ed (gone, unreadable) has
 * mode -1. The change time, not the mtime: the kernel sets it on every write, rename or mtime change, and no
 * program can set it back (`cp -p`, `rsync -a` and `touch -r` set a file's mtime back after changing it).
 */
export const FIELDS = 4;

/**
 * Fills FIELDS numbers per path for paths[from..to). It uses nothing but its arguments and globals (no
 * inner function either), so that its source text runs unchanged in the worker, transpiled or not.
 */
function statRange(lstat: (path: string | Buffer) => Stats, paths: readonly (string | Buffer)[], out: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    let stat: Stats;
    try {
      stat = lstat(paths[i]!);
    } catch {
      out[i * 4] = -1;
      continue;
    }
    out[i * 4] = stat.mode;
    out[i * 4 + 1] = stat.size;
    out[i * 4 + 2] = stat.ctimeMs;
    out[i * 4 + 3] = stat.ino;
  }
}

const WORKER = `
const { parentPort } = require("node:worker_threads");
const { lstatSync } = require("node:fs");
const statRange = ${statRange.toString()};
parentPort.once("message", (paths) => {
  const out = new Float64Array(paths.length * ${FIELDS});
  statRange(lstatSync, paths, out, 0, paths.length);
  parentPort.postMessage(out, [out.buffer]);
});`;

/** Stats paths[from..] in a worker; null when the worker fails (then this thread does them). */
function statInWorker(paths: readonly (string | Buffer)[], from: number): Promise<Float64Array | null> {
  return new Promise((resolve) => {
    const worker = new Worker(WORKER, { eval: true });
    worker.once("message", (out: Float64Array) => {
      resolve(out);
      void worker.terminate();
    });
    worker.once("error", () => resolve(null));
    worker.once("exit", () => resolve(null));
    worker.postMessage(paths.slice(from));
  });
}

/** lstat of each path, FIELDS numbers per path in paths' order. `splitFrom` is for tests. */
export async function lstatAll(paths: readonly (string | Buffer)[], splitFrom = SPLIT_FROM): Promise<Float64Array> {
  const out = new Float64Array(paths.length * FIELDS);
  if (paths.length < splitFrom) {
    statRange(lstatSync, paths, out, 0, paths.length);
    return out;
  }
  const mine = Math.ceil(paths.length * MAIN_SHARE);
  const theirs = statInWorker(paths, mine);
  statRange(lstatSync, paths, out, 0, mine);
  const rest = await theirs;
  if (rest) out.set(rest, mine * FIELDS);
  else statRange(lstatSync, paths, out, mine, paths.length);
  return out;
}
