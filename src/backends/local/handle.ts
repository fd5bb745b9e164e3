// The scheduler handle of a local job: "<pid>:<start>", the pid of the process group's leader and its
// start time (field 22 of /proc/<pid>/stat, or `ps -o lstart` where there is no /proc). A pid alone may
// be reused by an unrelated process after the job ends; the start time tells the two apart.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

/** Records written before the start time was kept hold the pid alone: valid, but never signalled. */
const LOCAL_HANDLE = /^(\d+)(?::([A-Za-z0-9]+))?$/;

export interface LocalHandle {
  pgid: number;
  start: string;
}

/** The start time of a process, or null when it is gone. */
export function processStartTime(pid: number): string | null {
  if (existsSync("/proc/self/stat")) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after the command name (which may hold spaces or ")") start after the last ")": field 3 first.
      return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
    } catch {
      return null;
    }
  }
  try {
    // "Mon Nov 30 15:01:48 2026" → "MonNov301501482026": a handle holds letters and digits only.
    const start = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return start.replace(/[^A-Za-z0-9]/g, "") || null;
  } catch {
    return null;
  }
}

export function formatHandle(pgid: number, start: string): string {
  return `${pgid}:${start}`;
}

/** The handle's parts, or null when it is malformed, has no start time, or names a pid that is never a job's (0, 1). */
export function parseHandle(handle: string): LocalHandle | null {
  const m = LOCAL_HANDLE.exec(handle);
  if (!m?.[2]) return null;
  const pgid = Number(m[1]);
  return Number.isSafeInteger(pgid) && pgid > 1 ? { pgid, start: m[2] } : null;
}
