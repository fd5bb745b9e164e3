// Local dirs that hold secrets' paths (ssh control sockets, the askpass program and its socket) must be
// ours alone: another local user who could write there could swap the askpass program and read the password.
import { chmodSync, lstatSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { ConnectionError } from "./errors.js";

function refuse(path: string, why: string): never {
  throw new ConnectionError(
    `${path} ${why}, so another user could replace what slurmray keeps there (the SSH askpass program, control sockets). ` +
      `Remove it (rm -rf ${path}) if it is yours to remove, or set XDG_RUNTIME_DIR to a private dir, and run again.`,
  );
}

/**
 * Makes `dir` (and the dirs between `top` and it) if needed, then checks each of them, from `top` down: a real
 * dir (no symlink), owned by us and not writable by others; `dir` itself is made 0700. Throws ConnectionError.
 */
export function privateDir(dir: string, top: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.();
  const chain: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    chain.unshift(d);
    if (d === top || dirname(d) === d) break;
  }
  for (const d of chain) {
    const stat = lstatSync(d);
    if (stat.isSymbolicLink() || !stat.isDirectory()) refuse(d, "is not a plain directory");
    if (uid !== undefined && stat.uid !== uid) refuse(d, `is owned by uid ${stat.uid}, not by you (uid ${uid})`);
    if (stat.mode & 0o022) refuse(d, `can be written by other users (mode ${(stat.mode & 0o777).toString(8)})`);
  }
  // Ours and not writable by others: nobody else can have put anything in it; close it to readers too.
  if (lstatSync(dir).mode & 0o077) chmodSync(dir, 0o700);
  return dir;
}
