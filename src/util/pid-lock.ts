// A lock between slurmray processes of one user on one machine: a file made with O_EXCL holding the
// holder's pid. A holder that died without removing it (SIGKILL, a crash) leaves a file whose pid is gone:
// the next taker removes it and takes the lock. (Two takers finding the same dead holder at the same instant
// could both get it: that needs a crash first, then two starts within a millisecond.)
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { InputError } from "./errors.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // someone else's process: alive
  }
}

/** The holder's pid, or null when the file is gone or does not hold one. */
function holder(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock at `path` and returns its release. When a live process holds it, an InputError says that
 * `what` is under way in that process (and where the lock is, should that pid now be another program).
 */
export function takePidLock(path: string, what: string): () => void {
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const pid = holder(path);
    if (pid !== null && alive(pid)) {
      throw new InputError(`${what} is under way in another slurmray (pid ${pid}); wait for it to end (if pid ${pid} is not slurmray, remove ${path})`);
    }
    if (attempt > 0) throw new InputError(`${what}: the lock ${path} keeps coming back; try again`);
    rmSync(path, { force: true }); // its holder is gone
  }
}
