// What git's listing of a work tree (`git ls-files -c -o --exclude-standard`) depends on, stamped so that the
// selection cache (select-cache.ts) can reuse it: at 100,000 files the listing costs 50–70 ms, most of a
// no-change sync. Besides the tree's directory listings (their ctimes, taken before git lists them), it is:
// - the index (which files are tracked): its ctime, size and inode;
// - the rules: every .gitignore in the tree (its content), info/exclude and the excludes file (their content,
//   or their absence), and the config keys that change them (`git config`, asked on every sync: it follows
//   includes, which no stamp of ours could);
// - the .git entry at the root (a .git file points elsewhere) and the GIT_* environment (the cache's key).
// Only for a root that is the work tree's top: rules in the folders above it would count too.
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { sha256 } from "./manifest.js";
import { decodeName, encodeName } from "./names.js";
import { type DirStamp, dirStamp, type GitStamps } from "./select-cache.js";

/** The config keys that change what `git ls-files -o --exclude-standard` lists. */
const CONFIG_KEYS = "^core\\.(excludesfile|ignorecase|worktree|sparsecheckout)$";

type FileStamp = GitStamps["files"][number];

/** Whether root is a work tree's top (holds .git), the only place the listing is cached. */
export function isWorkTreeTop(root: string): boolean {
  return existsSync(join(root, ".git"));
}

function git(root: string, args: string[]): string {
  return execFileSync("git", ["-C", root, ...args], { stdio: ["ignore", "pipe", "ignore"], encoding: "utf8" });
}

/** The config keys that change the listing, as git prints them: asked on every sync (a few ms). */
export function gitConfig(root: string): string {
  try {
    return git(root, ["config", "-z", "--type=path", "--get-regexp", CONFIG_KEYS]);
  } catch (error) {
    if ((error as { status?: number }).status === 1) return ""; // none of them is set
    throw error;
  }
}

function fileStamp(path: string): FileStamp {
  try {
    return [path, sha256(readFileSync(path))];
  } catch {
    return [path, null];
  }
}

/** The root's .git: a file's content (it points to the git dir), or a dir's inode. */
function dotGitStamp(root: string): FileStamp {
  const path = join(root, ".git");
  const stat = lstatSync(path);
  return stat.isFile() ? fileStamp(path) : [path, `dir ${stat.ino}`];
}

function indexStamp(path: string): GitStamps["index"] {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? [path, stat.ctimeMs, stat.size, stat.ino] : [path, -1, -1, -1];
}

/** The excludes file git reads: core.excludesFile (the last one set wins), else $XDG_CONFIG_HOME/git/ignore (or ~/.config/git/ignore). */
function excludesFile(config: string): string {
  const entry = config.split("\0").findLast((line) => line.toLowerCase().startsWith("core.excludesfile\n"));
  return entry ? entry.slice(entry.indexOf("\n") + 1) : join(process.env["XDG_CONFIG_HOME"] || join(homedir(), ".config"), "git", "ignore");
}

/** Everything but the tree's directories, stamped before git lists: asked of git where it keeps them. */
export function gitStamps(root: string, config: string): GitStamps {
  const [index, exclude] = git(root, ["rev-parse", "--git-path", "index", "--git-path", "info/exclude"]).split("\n");
  return {
    config,
    files: [dotGitStamp(root), fileStamp(resolve(root, exclude!)), fileStamp(resolve(root, excludesFile(config)))],
    index: indexStamp(resolve(root, index!)),
  };
}

/** Whether the stamps still hold, `config` being what git prints now. */
export function gitStampsHold(root: string, stamps: GitStamps, config: string): boolean {
  if (stamps.config !== config) return false;
  const files = [dotGitStamp(root), ...stamps.files.slice(1).map(([path]) => fileStamp(path))]; // as gitStamps took them
  return files.every(([, digest], i) => digest === stamps.files[i]?.[1]) && indexStamp(stamps.index[0]).every((value, i) => value === stamps.index[i]);
}

/**
 * The most directory entries stampTree reads (~0.1 s here): a tree with more, such as one holding a large
 * ignored dataset, is listed by git on every sync rather than walked in full on every change.
 */
export const MAX_STAMPED_ENTRIES = 250_000;

/**
 * Stamps every directory git could list files in, each before its listing is read, and the .gitignore files
 * in them: every directory but `.git`, those `skip` names (never shipped whatever git says), and the inside of
 * a nested repository (git lists it as "dir/"), whose own stamp still shows a .git appearing or going. Ignored
 * directories are walked too: which ones git ignores is git's to say, and a stamp too many only costs a miss.
 * Null past `maxEntries` entries.
 */
export function stampTree(
  root: string,
  skip: (relDir: string, names: ReadonlySet<string>) => boolean,
  maxEntries = MAX_STAMPED_ENTRIES,
): { dirs: DirStamp[]; gitignores: Map<string, Buffer> } | null {
  const dirs: DirStamp[] = [];
  const gitignores = new Map<string, Buffer>();
  let entriesRead = 0;
  const visit = (relDir: string): boolean => {
    dirs.push(dirStamp(root, relDir));
    const entries = readdirSync(encodeName(join(root, relDir)), { withFileTypes: true, encoding: "buffer" });
    entriesRead += entries.length;
    if (entriesRead > maxEntries) return false;
    const names = entries.map((entry) => decodeName(entry.name));
    const listed = new Set(names);
    if (relDir && (listed.has(".git") || skip(relDir, listed))) return true;
    if (listed.has(".gitignore")) {
      const rel = relDir ? `${relDir}/.gitignore` : ".gitignore";
      gitignores.set(rel, readFileSync(encodeName(join(root, rel))));
    }
    return entries.every((entry, i) => !entry.isDirectory() || names[i] === ".git" || visit(relDir ? `${relDir}/${names[i]}` : names[i]!));
  };
  return visit("") ? { dirs, gitignores } : null;
}
