// The manifest: what the code dir holds, one entry per file or symlink. Local hashes are cached by
// (size, ctime, inode) so that an unchanged file is never read again.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.js";
import { fail, isObject, readCache } from "../util/json-file.js";
import { isSafeName } from "../util/names.js";
import { racilyRecent } from "../util/racy.js";
import { displayName, encodeName } from "./names.js";
import type { SelectedFile, Selection } from "./select.js";

export interface ManifestEntry {
  path: string;
  size: number;
  /** sha256 of the content; for a symlink, of its target. */
  sha256: string;
  mode: number;
  /** Set for a symlink: its target. */
  link?: string;
}

export type Manifest = ManifestEntry[];

/** What a manifest's record holds of an entry (its size is a local fact, not part of it). */
export type ManifestRecord = Pick<ManifestEntry, "path" | "sha256" | "mode" | "link">;

/**
 * Manifest entries read back (from the local cache or the target's journal), checked: each path a plain
 * relative name inside the code dir, since it decides which files are deleted there.
 */
export function checkManifestEntries(value: unknown): Manifest {
  if (!Array.isArray(value)) return fail("expected a list of entries");
  for (const e of value) {
    const valid =
      isObject(e) &&
      typeof e.path === "string" &&
      isSafeName(e.path) &&
      typeof e.sha256 === "string" &&
      typeof e.mode === "number" &&
      (e.link === undefined || typeof e.link === "string");
    if (!valid) fail(`invalid entry ${JSON.stringify(e)?.slice(0, 200)}`);
  }
  return value as Manifest;
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Whether text is a sha256 as sha256() writes it: 64 lowercase hex digits. */
export function isSha256(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text);
}

/** Whether text is `count` such hashes run together, as the cached columns keep them (one test, not one per entry). */
export function isHashColumn(text: string, count: number): boolean {
  return text.length === 64 * count && /^[0-9a-f]*$/.test(text);
}

/** The one order of manifest entries (the hash depends on it). */
export function byPath(a: ManifestRecord, b: ManifestRecord): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

const HASH_CACHE = "codesync-hashes.json";
// 2: files are checked for SLURMRAY_PASSWORD when read, so a version 1 cache is read afresh once.
// 3: columns rather than an object of 100,000 keys: a third of the time to parse and to write.
// 4: keyed by the change time (ctime) rather than the mtime, which `cp -p` or `touch -r` set back.
const HASH_CACHE_VERSION = 4;

/** The hash cache: entry i is paths[i], stats[3i..3i+2] (size, ctime, inode), sha[64i..64i+63]; paths sorted. */
interface HashCache {
  version: typeof HASH_CACHE_VERSION;
  paths: string[];
  stats: number[];
  sha: string;
}

const NO_CACHE: HashCache = { version: HASH_CACHE_VERSION, paths: [], stats: [], sha: "" };

/** The columns' shape, the hashes checked at once (one test of the column); each entry's path and stats where it is used (cachedHash). */
function checkHashCache(value: unknown): HashCache {
  const valid =
    isObject(value) &&
    value.version === HASH_CACHE_VERSION &&
    Array.isArray(value.paths) &&
    Array.isArray(value.stats) &&
    value.stats.length === value.paths.length * 3 &&
    typeof value.sha === "string" &&
    isHashColumn(value.sha, value.paths.length);
  return valid ? (value as unknown as HashCache) : fail(`expected {version: ${HASH_CACHE_VERSION}, paths, stats, sha}`);
}

/** Entry i's hash when it still holds for f (the same path, size, ctime and inode), else null. */
function cachedHash(cache: HashCache, i: number, f: SelectedFile): string | null {
  const fits = cache.paths[i] === f.path && cache.stats[3 * i] === f.size && cache.stats[3 * i + 1] === f.ctimeMs && cache.stats[3 * i + 2] === f.ino;
  return fits ? cache.sha.slice(64 * i, 64 * i + 64) : null;
}

function entryOf(f: SelectedFile, digest: string): ManifestEntry {
  return { path: f.path, size: f.size, sha256: digest, mode: f.mode };
}

/**
 * Whether to rewrite the hash cache: rewriting 100,000 entries costs ~20 ms, so a large project's cache
 * is rewritten only once the files it misses (read and hashed again on every sync until then) or the
 * entries it holds for files gone are more than 1% of the project; a small one's whenever it differs.
 */
function rewriteCache(learned: number, held: number, kept: number, files: number): boolean {
  if (files <= SMALL_PROJECT) return learned > 0 || held !== kept;
  return learned * 100 > files || (held - kept) * 100 > files;
}

const SMALL_PROJECT = 10_000;

const PASSWORD_NAME = Buffer.from("SLURMRAY_PASSWORD");
const PASSWORD_ASSIGNMENT = /^[ \t]*(?:export[ \t]+)?SLURMRAY_PASSWORD[ \t]*=[ \t]*(?:"[^"\n]+"|'[^'\n]+'|[^\s"'#])/m;

/** Whether file content sets SLURMRAY_PASSWORD to something (checked only in files read anyway, for hashing). */
export function holdsPassword(data: Buffer): boolean {
  return data.includes(PASSWORD_NAME) && PASSWORD_ASSIGNMENT.test(data.toString("utf8"));
}

function readIfPresent(path: string): Buffer | null {
  try {
    return readFileSync(encodeName(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/**
 * The local manifest of a selection, reading only files whose (size, ctime, inode) changed. A file read
 * here that assigns SLURMRAY_PASSWORD is left out (unless config `files` asks for it), with a warning in
 * selection.warnings; its hash is never cached, so it is read, and left out, again next time.
 */
export function localManifest(root: string, selection: Selection, cacheDir: string): Manifest {
  const cacheFile = join(cacheDir, HASH_CACHE);
  const cache = readCache(cacheFile, checkHashCache) ?? NO_CACHE;
  // The cacheable hash of each selected file (by index): a cached one that still holds, or one read now
  // (not of a file setting a password, nor of one modified within the tick).
  const hashes: (string | undefined)[] = [];
  let [learned, kept] = [0, 0];
  const now = Date.now();
  const withPassword: string[] = [];
  const entries: Manifest = [];
  // Both lists are sorted by path: one walk finds each file's cache entry (a cache out of order only misses).
  let at = 0;
  selection.files.forEach((f, i) => {
    while (at < cache.paths.length && cache.paths[at]! < f.path) at++;
    const hit = cachedHash(cache, at, f);
    if (hit) {
      kept++;
      hashes[i] = hit;
      entries.push(entryOf(f, hit));
      return;
    }
    const data = readIfPresent(join(root, f.path));
    if (data === null) return; // gone since it was selected (an editor's temp file): not shipped
    // A file setting a password is shipped only while config `files` lists it: its hash is never
    // cached, so it is checked again once it is no longer listed.
    const secret = holdsPassword(data);
    if (secret && !selection.requested?.has(f.path)) {
      withPassword.push(f.path);
      return;
    }
    const hash = sha256(data);
    if (!secret && !racilyRecent(f.ctimeMs, now)) {
      learned++;
      hashes[i] = hash;
    }
    entries.push(entryOf(f, hash));
  });
  if (withPassword.length) {
    selection.warnings.push(`${withPassword.map(displayName).join(", ")}: not shipped, as it sets SLURMRAY_PASSWORD (list it in \`files\` to ship it anyway)`);
  }
  for (const l of selection.symlinks) {
    entries.push({ path: l.path, size: 0, sha256: sha256(l.target), mode: 0o777, link: l.target });
  }
  if (rewriteCache(learned, cache.paths.length, kept, selection.files.length)) {
    const [paths, stats, shas]: [string[], number[], string[]] = [[], [], []];
    selection.files.forEach((f, i) => {
      if (hashes[i] === undefined) return;
      paths.push(f.path);
      stats.push(f.size, f.ctimeMs, f.ino);
      shas.push(hashes[i]);
    });
    writeFileAtomic(cacheFile, JSON.stringify({ version: HASH_CACHE_VERSION, paths, stats, sha: shas.join("") } satisfies HashCache));
  }
  return entries.sort(byPath);
}
