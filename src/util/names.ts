// Names that come back from a target (clean's reply, manifests, file lists) decide which local or remote
// paths slurmray reads, writes or removes. Every such name goes through here: it must be a plain relative
// path that stays inside the dir it is joined to, and, on this machine, no symlink may lead it out.
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { SlurmrayError } from "./errors.js";

/** A reply from a target that slurmray refuses to act on. Exit code 1, like any failed remote step. */
export class UnsafeNameError extends SlurmrayError {
  constructor(what: string, name: string, why: string) {
    super(`${what}: refused the name ${JSON.stringify(name)} from the target (${why}); nothing was read or written for it`, 1);
  }
}

/** Why `name` is not a plain relative path inside its dir, or null when it is. */
export function unsafeNameReason(name: string): string | null {
  if (name === "") return "it is empty";
  if (name.includes("\0")) return "it holds a NUL byte";
  if (name.startsWith("/")) return "it is an absolute path";
  if (name.split("/").some((part) => part === ".." || part === ".")) return 'it holds ".." or "."';
  return null;
}

export function isSafeName(name: string): boolean {
  return unsafeNameReason(name) === null;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep));
}

/**
 * The local path of `name` inside `dir`, after checking the name and that no symlink on the way (the
 * deepest part that exists) leads outside dir. Throws UnsafeNameError otherwise.
 */
export function localPathInside(dir: string, name: string, what: string): string {
  const why = unsafeNameReason(name);
  if (why) throw new UnsafeNameError(what, name, why);
  const path = join(dir, name);
  if (!existsSync(dir)) return path;
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!isInside(realpathSync(dir), realpathSync(existing))) throw new UnsafeNameError(what, name, "a symlink leads it outside");
  return resolve(path);
}
