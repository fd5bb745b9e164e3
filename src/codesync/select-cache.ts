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

/** 2: directories stamped by ctime (1: by mtime, which `rsync -a` sets back). */
const VERSION = 2;

interface CacheFile {
  version: typeof VERSION;
  /** What else the selection depends on: the root and the config's `exclude`. */
  key: string;
  dirs: DirStamp[];
  rules: RuleStamp[];
  paths: string[];
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
    value.paths.every((p) => typeof p === "string" && isSafeName(p));
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

  constructor(
    cacheDir: string,
    readonly root: string,
    exclude: readonly string[],
  ) {
    this.#file = join(cacheDir, CACHE_FILE);
    this.#key = sha256(JSON.stringify([root, exclude]));
  }

  /** The cached paths, when nothing they depend on changed; else null. */
  read(): string[] | null {
    const cached = readCache(this.#file, checkCacheFile);
    if (cached?.key !== this.#key) return null;
    return unchanged(this.root, cached) ? cached.paths : null;
  }

  /**
   * Saves a walk's result. Not when a directory was modified within the clock's tick of the walk (as
   * for file hashes, manifest.ts): a second change in the same tick would keep its ctime.
   */
  write(paths: string[], dirs: DirStamp[], rulesRead: ReadonlyMap<string, Buffer>, walkStartedMs: number): void {
    if (dirs.some(([, ctimeMs]) => racilyRecent(ctimeMs, walkStartedMs))) return;
    const rules: RuleStamp[] = [...rulesRead].map(([relPath, content]) => [relPath, sha256(content)]);
    const cached: CacheFile = { version: VERSION, key: this.#key, dirs, rules, paths };
    writeFileAtomic(this.#file, JSON.stringify(cached));
  }
}
