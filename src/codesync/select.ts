// Which files of the project are shipped: what git tracks or could track (uncommitted edits included),
// minus .slurmrayignore, plus config `files`, minus config `exclude`. Never .git, virtualenvs,
// __pycache__, .slurmray or node_modules. Paths are relative, POSIX, decoded losslessly (names.ts).
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readlinkSync } from "node:fs";
import { dirname, join, posix, resolve } from "node:path";
import ignore from "ignore";
import { glob } from "tinyglobby";
import { IgnoreLayer } from "./ignore-rules.js";
import { decodeName, displayName, encodeName } from "./names.js";

export interface SelectedFile {
  path: string;
  size: number;
  mtimeMs: number;
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
}

export interface SelectOptions {
  root: string;
  /** Extra paths or globs (relative to root), shipped even when ignored. */
  files?: readonly string[];
  /** gitignore-style patterns removed from the selection. */
  exclude?: readonly string[];
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
  constructor(readonly markers: MarkerIndex) {}

  isNeverDir(relDir: string): boolean {
    if (NEVER_DIRS.has(posix.basename(relDir))) return true;
    let venv = this.#venvs.get(relDir);
    if (venv === undefined) {
      venv = this.markers.has(relDir, "pyvenv.cfg");
      this.#venvs.set(relDir, venv);
    }
    return venv;
  }

  /** Whether any directory on relPath's way (not the path itself) is never shipped. */
  excludes(relPath: string): boolean {
    for (let i = relPath.indexOf("/"); i >= 0; i = relPath.indexOf("/", i + 1)) {
      if (this.isNeverDir(relPath.slice(0, i))) return true;
    }
    return false;
  }
}

/** Whether root or a folder above it has .git: only then is starting git worth its cost. */
function insideGit(root: string): boolean {
  for (let dir = resolve(root); ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return true;
    if (dirname(dir) === dir) return false;
  }
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
  const paths = new Set<string>();
  let start = 0;
  for (let end = out.indexOf(0); end >= 0; start = end + 1, end = out.indexOf(0, start)) {
    const path = decodeName(out.subarray(start, end));
    // An untracked nested repository is listed as "dir/"; git would not track its files either.
    if (path.endsWith("/")) warnings.push(`${displayName(path)} is a separate git repository: not shipped (add it to \`files\` to ship it)`);
    else paths.add(path);
  }
  return [...paths];
}

/** The walk git would do, for a directory that is not a git work tree: .gitignore files, top-down. */
function walkCandidates(root: string, never: NeverRules): string[] {
  const { markers } = never;
  const gitignore = new IgnoreLayer(root, ".gitignore", markers.has);
  const found: string[] = [];
  const walk = (relDir: string) => {
    const entries = readdirSync(encodeName(join(root, relDir)), { withFileTypes: true, encoding: "buffer" });
    const names = entries.map((entry) => decodeName(entry.name));
    markers.record(relDir, new Set(names.filter((n) => MARKERS.has(n))));
    if (relDir && never.isNeverDir(relDir)) return;
    entries.forEach((entry, i) => {
      const rel = relDir ? `${relDir}/${names[i]}` : names[i]!;
      if (entry.isDirectory()) {
        if (!NEVER_DIRS.has(names[i]!) && !gitignore.excludesItself(rel, true)) walk(rel);
      } else if (!gitignore.excludesItself(rel, false)) {
        found.push(rel);
      }
    });
  };
  walk("");
  return found;
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

function linkStaysInside(relPath: string, target: string): boolean {
  if (posix.isAbsolute(target)) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(relPath), target));
  return resolved !== ".." && !resolved.startsWith("../");
}

export async function selectFiles(options: SelectOptions): Promise<Selection> {
  const { root } = options;
  const warnings: string[] = [];
  const markers = new MarkerIndex(root);
  const never = new NeverRules(markers);
  const base = (insideGit(root) && gitCandidates(root, warnings)) || walkCandidates(root, never);
  const slurmrayignore = new IgnoreLayer(root, ".slurmrayignore", markers.has);
  const kept = base.filter((p) => !slurmrayignore.excludes(p, false));
  const extras = await extraCandidates(root, options.files ?? [], warnings);
  const exclude = ignore({ ignoreCase: false }).add([...(options.exclude ?? [])]);

  const selection: Selection = { files: [], symlinks: [], skippedLinks: [], warnings };
  const paths = [...new Set([...kept, ...extras])].sort();
  for (const path of paths) {
    if (NEVER_DIRS.has(posix.basename(path)) || never.excludes(path) || exclude.ignores(path)) continue;
    const full = encodeName(join(root, path));
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(full);
    } catch {
      continue; // tracked by git but deleted in the working tree
    }
    if (stat.isSymbolicLink()) {
      const target = decodeName(readlinkSync(full, { encoding: "buffer" }));
      if (linkStaysInside(path, target)) selection.symlinks.push({ path, target });
      else selection.skippedLinks.push({ path, target });
    } else if (stat.isFile()) {
      selection.files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, mode: stat.mode & 0o777 });
    } else if (stat.isDirectory()) {
      warnings.push(`${displayName(path)} is a git submodule: not shipped (add its files to \`files\` to ship them)`);
    }
  }
  for (const link of selection.skippedLinks) {
    warnings.push(`${displayName(link.path)} is a symlink to ${displayName(link.target)}, outside the project: not shipped`);
  }
  return selection;
}
