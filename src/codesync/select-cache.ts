// The selection cache: outside git, choosing files means walking every directory and matching every
// entry against the ignore rules, which costs far more than the rest of a no-change sync. The result
// depends only on the walked directories' listings and on the rule files consulted, so it is reused while
// each walked directory keeps its (ctime, inode) (adding, removing or renaming an entry changes its
// directory's ctime, which, unlike the mtime that `rsync -a` sets back, nothing can set back) and each rule
// file its content. A file edited in place changes neither, and needs not: it stays selected, and its new
// size and ctime are read afresh on every sync.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.js";
import { fail, isObject, readCache } from "../util/json-file.js";
import { isSafeName } from "../util/names.js";
import { racilyRecent } from "../util/racy.js";
import { sha256 } from "./manifest.js";
import { encodeName } from "./names.js";

/** A walked directory, as it was when listed. */
export type DirStamp = [relDir: string, ctimeMs: number, ino: number];
/** A consulted rule file (.gitignore, .slurmrayignore) and the sha256 of the content that was applied. */
type RuleStamp = [relPath: string, sha256: string];

/** 2: directories stamped by ctime (1: by mtime, which `rsync -a` sets back); 3: git's listing too. */
const VERSION = 3;

/** In a git work tree, what git's listing depends on beyond the tree (git-listing.ts stamps and checks it). */
export interface GitStamps {
  /** The config keys that change the listing, as `git config` printed them. */
  config: string;
  /** Files outside the tree that git reads (the root's .git, info/exclude, the excludes file): sha256 of the content, null when absent. */
  files: [path: string, sha256: string | null][];
  /** The index's [path, ctimeMs, size, ino]. */
  index: [path: string, ctimeMs: number, size: number, ino: number];
}

interface CacheFile {
  version: typeof VERSION;
  /** What else the selection depends on: the root, the config's `exclude`, in git the GIT_* environment. */
  key: string;
  dirs: DirStamp[];
  rules: RuleStamp[];
  paths: string[];
  git: GitStamps | null;
  /** What the listing warned about (a nested repository), said again on every sync that reuses it. */
  warnings: string[];
  /** When a git work tree was found too large to stamp (git-listing.ts), null otherwise: nothing else is kept. */
  tooLargeAt: number | null;
}

/** How long a tree found too large to stamp is listed by git alone before it is tried again. */
const TOO_LARGE_FOR_MS = 24 * 3600_000;

/** What a hit gives back. */
export interface CachedSelection {
  paths: string[];
  warnings: string[];
}

const isNumber = (n: unknown): boolean => typeof n === "number";

function isGitStamps(value: unknown): value is GitStamps {
  return (
    isObject(value) &&
    typeof value.config === "string" &&
    Array.isArray(value.files) &&
    value.files.every((f) => Array.isArray(f) && f.length === 2 && typeof f[0] === "string" && (f[1] === null || typeof f[1] === "string")) &&
    Array.isArray(value.index) &&
    value.index.length === 4 &&
    typeof value.index[0] === "string" &&
    value.index.slice(1).every(isNumber)
  );
}

const CACHE_FILE = "codesync-selection.json";

/** The cache's shape; its paths are read and shipped, so each must be a plain name inside the project. */
function checkCacheFile(value: unknown): CacheFile {
  const valid =
    isObject(value) &&
    value.version === VERSION &&
    typeof value.key === "string" &&
    Array.isArray(value.dirs) &&
    value.dirs.every((d) => Array.isArray(d) && typeof d[0] === "string" && typeof d[1] === "number" && typeof d[2] === "number") &&
    Array.isArray(value.rules) &&
    value.rules.every((r) => Array.isArray(r) && typeof r[0] === "string" && isSafeName(r[0]) && typeof r[1] === "string") &&
    Array.isArray(value.paths) &&
    value.paths.every((p) => typeof p === "string" && isSafeName(p)) &&
    (value.git === null || isGitStamps(value.git)) &&
    Array.isArray(value.warnings) &&
    value.warnings.every((w) => typeof w === "string") &&
    (value.tooLargeAt === null || typeof value.tooLargeAt === "number");
  return valid ? (value as unknown as CacheFile) : fail("expected a selection cache");
}

/** The stamp of a directory, taken before listing it (a change after the stamp then shows as a miss). */
export function dirStamp(root: string, relDir: string): DirStamp {
  const stat = statSync(encodeName(join(root, relDir)));
  return [relDir, stat.ctimeMs, stat.ino];
}

function unchanged(root: string, cached: CacheFile): boolean {
  try {
    for (const [relDir, ctimeMs, ino] of cached.dirs) {
      const [, nowCtime, nowIno] = dirStamp(root, relDir);
      if (nowCtime !== ctimeMs || nowIno !== ino) return false;
    }
    return cached.rules.every(([relPath, hash]) => sha256(readFileSync(encodeName(join(root, relPath)))) === hash);
  } catch {
    return false; // a directory or rule file is gone
  }
}

export class SelectionCache {
  readonly #file: string;
  readonly #key: string;
  /** The file as read once, when it is this key's (tooLarge and read both look at it). */
  #loaded: CacheFile | null | undefined;

  /** `git`: the selection comes from git's listing, which the GIT_* environment changes too. */
  constructor(
    cacheDir: string,
    readonly root: string,
    exclude: readonly string[],
    git = false,
  ) {
    this.#file = join(cacheDir, CACHE_FILE);
    const environment = git ? Object.entries(process.env).filter(([name]) => name.startsWith("GIT_") || name === "HOME" || name === "XDG_CONFIG_HOME") : null;
    this.#key = sha256(JSON.stringify([root, exclude, environment?.sort()]));
  }

  /** The cached selection, when nothing it depends on changed (`gitHolds` decides for git's stamps); else null. */
  read(gitHolds: (stamps: GitStamps) => boolean = () => false): CachedSelection | null {
    const cached = this.#load();
    if (cached === null || cached.tooLargeAt !== null || !unchanged(this.root, cached)) return null;
    return cached.git === null || gitHolds(cached.git) ? { paths: cached.paths, warnings: cached.warnings } : null;
  }

  /**
   * Saves a walk's result (with git's stamps and warnings, in a work tree). Not when a directory or the index
   * was modified within the clock's tick of the walk (as for file hashes, manifest.ts): a second change in the
   * same tick would keep its ctime.
   */
  write(paths: string[], dirs: DirStamp[], rulesRead: ReadonlyMap<string, Buffer>, walkStartedMs: number, git: { stamps: GitStamps; warnings: string[] } | null = null): void {
    const times = [...dirs.map(([, ctimeMs]) => ctimeMs), ...(git ? [git.stamps.index[1]] : [])];
    if (times.some((ctimeMs) => racilyRecent(ctimeMs, walkStartedMs))) return;
    const rules: RuleStamp[] = [...rulesRead].map(([relPath, content]) => [relPath, sha256(content)]);
    this.#save({ dirs, rules, paths, git: git?.stamps ?? null, warnings: git?.warnings ?? [], tooLargeAt: null });
  }

  /** Whether the tree was found too large to stamp within the last day (then git lists it alone). */
  tooLarge(now = Date.now()): boolean {
    const tooLargeAt = this.#load()?.tooLargeAt ?? null;
    return tooLargeAt !== null && now - tooLargeAt < TOO_LARGE_FOR_MS;
  }

  /** Records that the tree is too large to stamp. */
  markTooLarge(now = Date.now()): void {
    this.#save({ dirs: [], rules: [], paths: [], git: null, warnings: [], tooLargeAt: now });
  }

  #load(): CacheFile | null {
    if (this.#loaded === undefined) {
      const cached = readCache(this.#file, checkCacheFile);
      this.#loaded = cached?.key === this.#key ? cached : null;
    }
    return this.#loaded;
  }

  #save(fields: Omit<CacheFile, "version" | "key">): void {
    const cached: CacheFile = { version: VERSION, key: this.#key, ...fields };
    writeFileAtomic(this.#file, JSON.stringify(cached));
    this.#loaded = cached;
  }
}
