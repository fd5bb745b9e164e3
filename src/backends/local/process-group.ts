// Is a process group still alive? On Linux a zombie still answers kill(-pgid, 0), and PID 1 here reaps
// orphans only every ~2 s, so we read /proc and ignore zombies; elsewhere kill(-pgid, 0) is the best we have.
import { existsSync, readdirSync, readFileSync } from "node:fs";

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

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}
