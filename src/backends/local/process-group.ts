// Is a process group still alive? On Linux a zombie still answers kill(-pgid, 0), and PID 1 here reaps
// orphans only every ~2 s, so we read /proc and ignore zombies; elsewhere kill(-pgid, 0) is the best we have.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { type LocalHandle, processStartTime } from "./handle.js";

function livingMembersFromProc(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    // Fields after the command name (which may contain spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = fields[0];
    const group = Number(fields[2]);
    if (group === pgid && state !== "Z" && state !== "X") members.push(Number(name));
  }
  return members;
}

export function processGroupAlive(pgid: number): boolean {
  if (existsSync("/proc/self/stat")) return livingMembersFromProc(pgid).length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the group is still the job's: its leader has the recorded start time, or the leader is gone
 * (the kernel does not reuse a pid while a process group of that id has members, so members are the job's).
 */
function belongsToJob(job: LocalHandle): boolean {
  const start = processStartTime(job.pgid);
  return start === null || start === job.start;
}

export function jobGroupAlive(job: LocalHandle): boolean {
  return belongsToJob(job) && processGroupAlive(job.pgid);
}

/** Signals the job's process group; never pid 0 or 1 (the caller's group, or every process), never a reused pid. */
export function signalJobGroup(job: LocalHandle, signal: NodeJS.Signals): void {
  if (!Number.isSafeInteger(job.pgid) || job.pgid <= 1 || !belongsToJob(job)) return;
  try {
    process.kill(-job.pgid, signal);
  } catch {
    // Already gone.
  }
}
