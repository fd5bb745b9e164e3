// The manifest: what the code dir holds, one entry per file or symlink. Local hashes are cached by
// (size, mtime, inode) so that an unchanged file is never read again.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.js";
import { encodeName } from "./names.js";
import type { Selection } from "./select.js";

export interface ManifestEntry {
  path: string;
  size: number;
  mtimeMs: number;
  /** sha256 of the content; for a symlink, of its target. */
  sha256: string;
  mode: number;
  /** Set for a symlink: its target. */
  link?: string;
}

export type Manifest = ManifestEntry[];

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The one order of manifest entries (the hash depends on it). */
export function byPath(a: ManifestEntry, b: ManifestEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

type CachedHash = [size: number, mtimeMs: number, ino: number, sha256: string];
const HASH_CACHE = "codesync-hashes.json";
// A file modified again within the file system clock's tick after being hashed would keep its (size,
// mtime): like git's "racily clean" check, hashes of files modified this recently are not cached.
// Linux and macOS stamp mtimes from a clock with a tick of a few milliseconds; 100 ms is ample. File
// systems that keep whole seconds only (ext3, HFS+, some NFS) have a tick of a second.
const RACY_MS = 100;

/** Whether something stamped mtimeMs could still change, as seen at nowMs, without its mtime changing. */
export function racilyRecent(mtimeMs: number, nowMs: number): boolean {
  return nowMs - mtimeMs <= (mtimeMs % 1000 === 0 ? 1000 : RACY_MS);
}

function readHashCache(file: string): Record<string, CachedHash> {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { version?: number; files?: Record<string, CachedHash> };
    return parsed.version === 1 && parsed.files ? parsed.files : {};
  } catch {
    return {};
  }
}

function readIfPresent(path: string): Buffer | null {
  try {
    return readFileSync(encodeName(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** The local manifest of a selection, reading only files whose (size, mtime, inode) changed. */
export function localManifest(root: string, selection: Selection, cacheDir: string): Manifest {
  const cacheFile = join(cacheDir, HASH_CACHE);
  const cache = readHashCache(cacheFile);
  const next: Record<string, CachedHash> = {};
  let changed = false;
  const now = Date.now();
  const entries: Manifest = selection.files.flatMap((f) => {
    const hit = cache[f.path];
    let hash: string;
    if (hit && hit[0] === f.size && hit[1] === f.mtimeMs && hit[2] === f.ino) {
      hash = hit[3];
    } else {
      const data = readIfPresent(join(root, f.path));
      if (data === null) return []; // gone since it was selected (an editor's temp file): not shipped
      hash = sha256(data);
      changed = true;
    }
    if (!racilyRecent(f.mtimeMs, now)) next[f.path] = [f.size, f.mtimeMs, f.ino, hash];
    else changed = true;
    return [{ path: f.path, size: f.size, mtimeMs: f.mtimeMs, sha256: hash, mode: f.mode }];
  });
  for (const l of selection.symlinks) {
    entries.push({ path: l.path, size: 0, mtimeMs: 0, sha256: sha256(l.target), mode: 0o777, link: l.target });
  }
  if (changed || Object.keys(cache).length !== Object.keys(next).length) writeFileAtomic(cacheFile, JSON.stringify({ version: 1, files: next }));
  return entries.sort(byPath);
}
