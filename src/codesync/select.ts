// Which files of the project are shipped: what git tracks or could track (uncommitted edits included),
// minus .slurmrayignore, plus config `files`, minus config `exclude`. Never .git, virtualenvs,
// __pycache__, .slurmray or node_modules. Paths are relative, POSIX, decoded losslessly (names.ts).
import { execFileSync } from "node:child_process";
import { constants, existsSync, readdirSync, readlinkSync } from "node:fs";
import { dirname, join, posix, resolve } from "node:path";
import ignore, { type Ignore } from "ignore";
import { glob } from "tinyglobby";
import { gitConfig, gitStamps, gitStampsHold, isWorkTreeTop, stampTree } from "./git-listing.js";
import { dirOf, IgnoreLayer, onTheWay } from "./ignore-rules.js";
import { FIELDS, lstatAll } from "./lstat-all.js";
import { decodeName, displayName, encodeName, nativeName } from "./names.js";
import { type DirStamp, dirStamp, SelectionCache } from "./select-cache.js";

export interface SelectedFile {
  path: string;
  size: number;
  /** The change time (see lstat-all.ts): what says the file may have changed, with size and inode. */
  ctimeMs: number;
  ino: number;
  mode: number;
}

export interface SelectedLink {
  path: string;
  /** The link's target as written (relative, resolving inside the project). */
  target: string;
}

export interface Selection {
  files: SelectedFile[];
  symlinks: SelectedLink[];
  /** Links pointing outside the project (or absolute): not shipped. */
  skippedLinks: SelectedLink[];
  warnings: string[];
  /** Whether the walk's result came from the selection cache (select-cache.ts). */
  reused: boolean;
  /** Paths matched by config `files`: shipped even when they look like secrets. */
  requested?: ReadonlySet<string>;
}

export interface SelectOptions {
  root: string;
  /** Extra paths or globs (relative to root), shipped even when ignored. */
  files?: readonly string[];
  /** gitignore-style patterns removed from the selection. */
  exclude?: readonly string[];
  /** The local cache dir: given, a walk's result is reused while the tree's listings and rules hold. */
  cacheDir?: string;
}

const NEVER_DIRS = new Set([".git", "__pycache__", ".slurmray", "node_modules"]);

/** The git work tree's top directory containing dir, or dir itself outside git. */
export function projectRoot(dir: string): string {
  try {
    const out = execFileSync("git", ["-C", dir, "rev-parse", "--show-toplevel"], { stdio: ["ignore", "pipe", "ignore"] });
    return out.toString("utf8").replace(/\n$/, "") || dir;
  } catch {
    return dir;
  }
}

const MARKERS = new Set([".gitignore", ".slurmrayignore", "pyvenv.cfg"]);

/**
 * Which directories hold a rule file or a venv marker: from the walk's own directory listings when there
 * was a walk (no extra system call per directory), else asked of the disk.
 */
class MarkerIndex {
  readonly #listed = new Map<string, Set<string>>();
  constructor(readonly root: string) {}

  record(relDir: string, names: Set<string>): void {
    this.#listed.set(relDir, names);
  }

  readonly has = (relDir: string, name: string): boolean => {
    const listed = this.#listed.get(relDir);
    return listed ? listed.has(name) : existsSync(encodeName(join(this.root, relDir, name)));
  };
}

/** Decides the never-shipped directories, remembering which directories are virtualenvs. */
class NeverRules {
  readonly #venvs = new Map<string, boolean>();
  /** Per directory: whether it or a directory above it is never shipped. */
  readonly #ways = new Map<string, boolean>();
  constructor(readonly markers: MarkerIndex) {}

  /** Whether the last part of relPath is a never-shipped name (.git, __pycache__…). */
  isNeverName(relPath: string): boolean {
    const slash = relPath.lastIndexOf("/");
    return NEVER_DIRS.has(slash < 0 ? relPath : relPath.slice(slash + 1));
  }

  isNeverDir(relDir: string): boolean {
    if (this.isNeverName(relDir)) return true;
    let venv = this.#venvs.get(relDir);
    if (venv === undefined) {
      venv = this.markers.has(relDir, "pyvenv.cfg");
      this.#venvs.set(relDir, venv);
    }
    return venv;
  }

  readonly #isNever = (relDir: string): boolean => this.isNeverDir(relDir);

  /** Whether any directory on relPath's way (not the path itself) is never shipped. */
  excludes(relPath: string): boolean {
    const dir = dirOf(relPath);
    return dir !== "" && onTheWay(this.#ways, dir, this.#isNever);
  }
}

/** Whether root or a folder above it has .git: only then is starting git worth its cost. */
function insideGit(root: string): boolean {
  for (let dir = resolve(root); ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return true;
    if (dirname(dir) === dir) return false;
  }
}

/** NUL-terminated names, decoded losslessly: as one text when all of it is valid UTF-8 (100,000 names at once). */
function decodeNames(out: Buffer): string[] {
  const text = out.toString("utf8");
  if (!text.includes("\uFFFD")) return text.split("\0").slice(0, -1);
  const names: string[] = [];
  for (let start = 0, end = out.indexOf(0); end >= 0; start = end + 1, end = out.indexOf(0, start)) names.push(decodeName(out.subarray(start, end)));
  return names;
}

/** `git ls-files -co --exclude-standard` (exactly git's rules), or null when root is not in a git work tree. */
function gitCandidates(root: string, warnings: string[]): string[] | null {
  let out: Buffer;
  try {
    out = execFileSync("git", ["-C", root, "ls-files", "-z", "-c", "-o", "--exclude-standard"], {
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 1 << 30,
    });
  } catch {
    return null;
  }
  // An untracked nested repository is listed as "dir/"; git would not track its files either. A path
  // listed twice (a conflict's stages) is made one by sortedUnique.
  const names = decodeNames(out);
  for (const path of names) {
    if (path.endsWith("/")) warnings.push(`${displayName(path)} is a separate git repository: not shipped (add it to \`files\` to ship it)`);
  }
  return names.filter((path) => !path.endsWith("/"));
}

interface Walk {
  files: string[];
  /** Every directory listed, stamped before its listing. */
  dirs: DirStamp[];
  gitignore: IgnoreLayer;
}

/** The walk git would do, for a directory that is not a git work tree: .gitignore files, top-down. */
function walkTree(root: string, never: NeverRules): Walk {
  const { markers } = never;
  const walk: Walk = { files: [], dirs: [], gitignore: new IgnoreLayer(root, ".gitignore", markers.has) };
  const visit = (relDir: string) => {
    walk.dirs.push(dirStamp(root, relDir));
    const entries = readdirSync(encodeName(join(root, relDir)), { withFileTypes: true, encoding: "buffer" });
    const names = entries.map((entry) => decodeName(entry.name));
    markers.record(relDir, new Set(names.filter((n) => MARKERS.has(n))));
    if (relDir && never.isNeverDir(relDir)) return;
    entries.forEach((entry, i) => {
      const rel = relDir ? `${relDir}/${names[i]}` : names[i]!;
      if (entry.isDirectory()) {
        if (!NEVER_DIRS.has(names[i]!) && !walk.gitignore.excludesItself(rel, true)) visit(rel);
      } else if (!walk.gitignore.excludesItself(rel, false)) {
        walk.files.push(rel);
      }
    });
  };
  visit("");
  return walk;
}

/** Paths matched by config `files` (globs, or paths of files or directories), relative to root. */
async function extraCandidates(root: string, patterns: readonly string[], warnings: string[]): Promise<string[]> {
  const inside = patterns.filter((p) => {
    const ok = !posix.isAbsolute(p) && !posix.normalize(p).startsWith("../");
    if (!ok) warnings.push(`files: "${p}" is outside the project: ignored (only paths inside ${root} are shipped)`);
    return ok;
  });
  if (!inside.length) return [];
  const matched = await glob([...inside], { cwd: root, dot: true, onlyFiles: true, followSymbolicLinks: false });
  for (const p of inside) {
    if (!matched.some((m) => m === p || m.startsWith(`${p.replace(/\/$/, "")}/`)) && !/[*?[{]/.test(p)) {
      warnings.push(`files: "${p}" matches nothing in the project`);
    }
  }
  return matched;
}

/** .env, .env.local, .envrc…: where passwords and tokens live. Shipped only when listed in config `files`. */
function isSecretsFile(path: string): boolean {
  return path.startsWith(".env", path.lastIndexOf("/") + 1); // the base name, without making it
}

/**
 * The paths a job can open in its tree: the shipped files, and the same files reached through a shipped
 * symlink (`alias -> realdir` makes `alias/m.py` of `realdir/m.py`), for the import check. Links to links are
 * followed a few levels deep.
 */
export function reachablePaths(selection: Pick<Selection, "files" | "symlinks">): string[] {
  const files = selection.files.map((file) => file.path);
  if (selection.symlinks.length === 0) return files;
  const reachable = new Set(files);
  for (let depth = 0; depth < 4; depth++) {
    const before = reachable.size;
    for (const link of selection.symlinks) {
      const target = posix.normalize(posix.join(posix.dirname(link.path), link.target));
      for (const path of [...reachable]) {
        if (path === target) reachable.add(link.path);
        else if (path.startsWith(`${target}/`)) reachable.add(`${link.path}${path.slice(target.length)}`);
      }
    }
    if (reachable.size === before) break;
  }
  return [...reachable];
}

function linkStaysInside(relPath: string, target: string): boolean {
  if (posix.isAbsolute(target)) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(relPath), target));
  return resolved !== ".." && !resolved.startsWith("../");
}

/** The rules every candidate path passes: .slurmrayignore (not for config `files`), never-shipped dirs, `exclude`. */
class Filters {
  readonly slurmrayignore: IgnoreLayer;
  readonly #exclude: Ignore | null;

  constructor(
    root: string,
    readonly never: NeverRules,
    exclude: readonly string[],
  ) {
    this.slurmrayignore = new IgnoreLayer(root, ".slurmrayignore", never.markers.has);
    this.#exclude = exclude.length ? ignore({ ignoreCase: false }).add([...exclude]) : null;
  }

  readonly shipped = (path: string): boolean =>
    !this.never.isNeverName(path) && !this.never.excludes(path) && !this.#exclude?.ignores(path);

  readonly kept = (path: string): boolean => !this.slurmrayignore.excludes(path, false) && this.shipped(path);
}

/** The kept paths of a tree outside git: walked, or from the cache while the tree's listings and rules hold. */
function walkedPaths(options: SelectOptions, filters: Filters, exclude: readonly string[]): { paths: string[]; reused: boolean } {
  const cache = options.cacheDir === undefined ? null : new SelectionCache(options.cacheDir, options.root, exclude);
  const cached = cache?.read();
  if (cached) return { paths: cached.paths, reused: true };
  const started = Date.now();
  const walk = walkTree(options.root, filters.never);
  const paths = walk.files.filter(filters.kept);
  cache?.write(paths, walk.dirs, new Map([...walk.gitignore.filesRead, ...filters.slurmrayignore.filesRead]), started);
  return { paths, reused: false };
}

/**
 * The kept paths of a git work tree: git's listing, or from the cache while everything it depends on holds
 * (git-listing.ts): at a work tree's top only, and never from a state the stamps could not vouch for (then
 * git lists as always). Null outside a work tree.
 */
function gitPaths(options: SelectOptions, filters: Filters, exclude: readonly string[], warnings: string[]): { paths: string[]; reused: boolean } | null {
  const { root } = options;
  const cache = options.cacheDir !== undefined && isWorkTreeTop(root) ? new SelectionCache(options.cacheDir, root, exclude, true) : null;
  const config = cache && !cache.tooLarge() ? orNull(() => gitConfig(root)) : null;
  const cached = config === null ? null : cache!.read((stamps) => orNull(() => gitStampsHold(root, stamps, config)) === true);
  if (cached) {
    warnings.push(...cached.warnings);
    return { paths: cached.paths, reused: true };
  }
  // Everything git reads is stamped before it lists, so a change while it lists shows as a miss next time.
  const started = Date.now();
  // Never-shipped and virtualenv dirs: whatever git lists in them is dropped, so their insides are not stamped.
  const dropped = (relDir: string, names: ReadonlySet<string>): boolean => {
    filters.never.markers.record(relDir, new Set([...names].filter((name) => MARKERS.has(name))));
    return filters.never.isNeverDir(relDir);
  };
  const stamped = config === null ? null : orNull(() => ({ stamps: gitStamps(root, config), tree: stampTree(root, dropped) }));
  const own: string[] = [];
  const listed = gitCandidates(root, own);
  warnings.push(...own);
  if (!listed) return null;
  const paths = listed.filter(filters.kept);
  if (stamped?.tree) {
    const rules = new Map([...stamped.tree.gitignores, ...filters.slurmrayignore.filesRead]);
    cache!.write(paths, stamped.tree.dirs, rules, started, { stamps: stamped.stamps, warnings: own });
  } else if (stamped) {
    cache!.markTooLarge();
  }
  return { paths, reused: false };
}

/** fn's value, or null when it throws: a stamp that cannot be taken or checked means no cache, never an error. */
function orNull<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

/** The paths sorted, each once: a list that already is (a cached walk, git's listing) is taken as it is. */
function sortedUnique(paths: string[]): string[] {
  for (let i = 1; i < paths.length; i++) if (paths[i - 1]! >= paths[i]!) return [...new Set(paths)].sort();
  return paths;
}

export async function selectFiles(options: SelectOptions): Promise<Selection> {
  const { root } = options;
  const exclude = options.exclude ?? [];
  const warnings: string[] = [];
  const filters = new Filters(root, new NeverRules(new MarkerIndex(root)), exclude);
  const { paths: kept, reused } = (insideGit(root) ? gitPaths(options, filters, exclude, warnings) : null) ?? walkedPaths(options, filters, exclude);
  const extras = (await extraCandidates(root, options.files ?? [], warnings)).filter(filters.shipped);

  const requested = new Set(extras);
  const secrets = kept.filter((path) => isSecretsFile(path) && !requested.has(path));
  if (secrets.length) {
    warnings.push(`${secrets.map(displayName).join(", ")}: not shipped, as .env files may hold secrets (list one in \`files\` to ship it)`);
  }
  const selection: Selection = { files: [], symlinks: [], skippedLinks: [], warnings, reused, requested };
  const skipped = new Set(secrets);
  const paths = sortedUnique([...(skipped.size ? kept.filter((path) => !skipped.has(path)) : kept), ...extras]);
  const natives = paths.map((path) => nativeName(`${root}/${path}`));
  const stats = await lstatAll(natives);
  for (let i = 0, at = 0; i < paths.length; i++, at += FIELDS) {
    const [path, mode] = [paths[i]!, stats[at]!];
    if (mode < 0) continue; // tracked by git but deleted in the working tree
    const type = mode & constants.S_IFMT;
    if (type === constants.S_IFLNK) {
      const target = decodeName(readlinkSync(natives[i]!, { encoding: "buffer" }));
      if (linkStaysInside(path, target)) selection.symlinks.push({ path, target });
      else selection.skippedLinks.push({ path, target });
    } else if (type === constants.S_IFREG) {
      selection.files.push({ path, size: stats[at + 1]!, ctimeMs: stats[at + 2]!, ino: stats[at + 3]!, mode: mode & 0o777 });
    } else if (type === constants.S_IFDIR) {
      warnings.push(`${displayName(path)} is a git submodule: not shipped (add its files to \`files\` to ship them)`);
    }
  }
  for (const link of selection.skippedLinks) {
    warnings.push(`${displayName(link.path)} is a symlink to ${displayName(link.target)}, outside the project: not shipped`);
  }
  return selection;
}
