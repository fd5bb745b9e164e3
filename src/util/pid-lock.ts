// A lock between slurmray processes of one user on one machine: a file made with O_EXCL holding the
// holder's pid. A holder that died without removing it (SIGKILL, a crash) leaves a file whose pid is gone:
// the next taker removes it and takes the lock. A file without a pid yet is a taker between making the file
// and writing its pid: held, not dead. (Two takers finding the same dead holder at the same instant could
// both get it: that needs a crash first, then two takers within a millisecond.)
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { InputError } from "./errors.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // someone else's process: alive
  }
}

/** Who holds the lock: a live pid, a dead one, a taker still writing its pid (or one that died doing so), or nobody. */
function holder(path: string): { pid: number } | "dead" | "taking" | "gone" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  }
  const pid = Number(text.trim());
  if (text.endsWith("\n") && Number.isSafeInteger(pid) && pid > 0) return alive(pid) ? { pid } : "dead";
  // A taker writes its pid just after making the file: a file without one is being taken, unless it is old.
  try {
    return Date.now() - statSync(path).mtimeMs < TAKING_MS ? "taking" : "dead";
  } catch {
    return "gone";
  }
}

const TAKING_MS = 2000;

/** Writes this process's pid into `path` as the lock files hold it; `exclusive`: only when the file does not exist (EEXIST). */
export function writeOwnPid(path: string, exclusive = false): void {
  writeFileSync(path, `${process.pid}\n`, { flag: exclusive ? "wx" : "w", mode: 0o600 });
}

/** The lock's release, or who holds it (pid null: a taker that is writing its pid). A dead holder's file is removed first. */
function tryTake(path: string, what: string): (() => void) | { pid: number | null } {
  for (let removed = false; ; ) {
    try {
      writeOwnPid(path, true);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const found = holder(path);
    if (found === "gone") continue; // released between the two steps: try again
    if (found === "taking") return { pid: null };
    if (found !== "dead") return found;
    if (removed) throw new InputError(`${what}: the lock ${path} keeps coming back; try again`);
    rmSync(path, { force: true }); // its holder is gone
    removed = true;
  }
}

/** Whether a live process holds the pid file at `path` (or is writing it now). */
export function heldByLiveProcess(path: string): boolean {
  const found = holder(path);
  return found === "taking" || typeof found === "object";
}

/**
 * Takes the lock at `path` and returns its release. When a live process holds it, an InputError says that
 * `what` is under way in that process (and where the lock is, should that pid now be another program).
 */
export function takePidLock(path: string, what: string): () => void {
  const taken = tryTake(path, what);
  if (typeof taken === "function") return taken;
  const who = taken.pid === null ? "another slurmray, starting now" : `another slurmray (pid ${taken.pid})`;
  throw new InputError(`${what} is under way in ${who}; wait for it to end (if that is not slurmray, remove ${path})`);
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Takes a lock that is held only for moments (a file's read, change and write), waiting for its holder up to
 * `waitMs`. Synchronous, so that the change it guards is too.
 */
export function waitPidLock(path: string, what: string, waitMs = 5000): () => void {
  const deadline = performance.now() + waitMs;
  for (;;) {
    let taken: (() => void) | { pid: number | null };
    try {
      taken = tryTake(path, what);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      taken = { pid: null }; // another taker cleared the same dead holder at this instant: try again
    }
    if (typeof taken === "function") return taken;
    if (performance.now() > deadline) {
      throw new InputError(`${what}: the lock ${path} has been held${taken.pid === null ? "" : ` by pid ${taken.pid}`} for over ${waitMs / 1000} s; if no slurmray holds it, remove ${path}`);
    }
    Atomics.wait(pause, 0, 0, 2);
  }
}
