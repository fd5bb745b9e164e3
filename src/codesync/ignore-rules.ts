// gitignore semantics over per-directory rule files (.gitignore, .slurmrayignore), exactly as git applies
// them: a path is decided by the deepest rule file whose patterns match it (its last matching pattern wins),
// and nothing under an excluded directory can be re-included.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ignore, { type Ignore } from "ignore";
import { decodeName, encodeName } from "./names.js";

interface RuleMatcher {
  test(path: string, mode: string): { ignored: boolean; unignored: boolean };
}

/**
 * The `ignore` package's single-path matcher. Its public test() also applies the file's own rules to every
 * parent directory, which is wrong across files: root `build/` plus sub/.gitignore `!build/` keeps
 * sub/build/x in git, but the public test() of the root file reports it ignored via its parent. So each
 * file is asked about the path alone, and parents are decided here, over all files, top-down.
 */
function matcherOf(ig: Ignore): RuleMatcher {
  const rules = (ig as unknown as { _rules?: RuleMatcher })._rules;
  if (typeof rules?.test !== "function") {
    throw new Error("The installed `ignore` package has no single-path rule test; codesync needs ignore 7.x");
  }
  return rules;
}

const MODE_IGNORE = "regex";

/** The directory holding relPath ("" at the top). */
export function dirOf(relPath: string): string {
  const slash = relPath.lastIndexOf("/");
  return slash < 0 ? "" : relPath.slice(0, slash);
}

/**
 * Whether `holds` is true of relDir or of a directory above it, remembered per directory in `memo`: 100,000
 * paths in a few hundred directories cost a few hundred decisions, not one per path and parent.
 */
export function onTheWay(memo: Map<string, boolean>, relDir: string, holds: (dir: string) => boolean): boolean {
  let verdict = memo.get(relDir);
  if (verdict === undefined) {
    const parent = dirOf(relDir);
    verdict = (parent !== "" && onTheWay(memo, parent, holds)) || holds(relDir);
    memo.set(relDir, verdict);
  }
  return verdict;
}

/** One layer of rule files with one name, found in any directory under root. */
export class IgnoreLayer {
  readonly #root: string;
  readonly #fileName: string;
  readonly #rules = new Map<string, RuleMatcher | null>();
  /** Per directory: the directories from the top down to it that hold a rule file (most hold none). */
  readonly #ruleDirs = new Map<string, readonly string[]>();
  /** Per directory: whether it or a directory above it is excluded. */
  readonly #dirVerdicts = new Map<string, boolean>();
  /** The content of every rule file consulted, by relative path: what a cached selection depends on. */
  readonly filesRead = new Map<string, Buffer>();

  readonly #has: (relDir: string, name: string) => boolean;

  /** has: whether a directory holds a file of that name (a walk may answer it from its own listings). */
  constructor(root: string, fileName: string, has = (relDir: string, name: string) => existsSync(encodeName(join(root, relDir, name)))) {
    this.#root = root;
    this.#fileName = fileName;
    this.#has = has;
  }

  /** The matcher of dir/<fileName>, or null when dir has none. */
  #rulesIn(dir: string): RuleMatcher | null {
    let rules = this.#rules.get(dir);
    if (rules === undefined) {
      // Asked first: most directories have no rule file, and a thrown ENOENT per directory is slow.
      rules = null;
      if (this.#has(dir, this.#fileName)) {
        const relPath = dir ? `${dir}/${this.#fileName}` : this.#fileName;
        const content = readFileSync(encodeName(join(this.#root, relPath)));
        this.filesRead.set(relPath, content);
        rules = matcherOf(ignore({ ignoreCase: false }).add(decodeName(content)));
      }
      this.#rules.set(dir, rules);
    }
    return rules;
  }

  #ruleDirsOf(dir: string): readonly string[] {
    let dirs = this.#ruleDirs.get(dir);
    if (dirs === undefined) {
      const above = dir ? this.#ruleDirsOf(dirOf(dir)) : [];
      dirs = this.#rulesIn(dir) ? [...above, dir] : above;
      this.#ruleDirs.set(dir, dirs);
    }
    return dirs;
  }

  /** Whether the rules exclude relPath itself (its parents assumed not excluded). */
  excludesItself(relPath: string, isDir: boolean): boolean {
    const dirs = this.#ruleDirsOf(dirOf(relPath));
    const tested = isDir ? `${relPath}/` : relPath;
    for (let k = dirs.length - 1; k >= 0; k--) {
      const dir = dirs[k]!;
      const verdict = this.#rulesIn(dir)!.test(dir ? tested.slice(dir.length + 1) : tested, MODE_IGNORE);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    return false;
  }

  readonly #excludesDir = (relDir: string): boolean => this.excludesItself(relDir, true);

  /** Whether relPath or any directory above it is excluded. */
  excludes(relPath: string, isDir: boolean): boolean {
    const dir = dirOf(relPath);
    return (dir !== "" && onTheWay(this.#dirVerdicts, dir, this.#excludesDir)) || this.excludesItself(relPath, isDir);
  }
}
