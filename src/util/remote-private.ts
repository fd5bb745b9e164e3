// What slurmray keeps on a target (runtime, code, job and env dirs) must be the user's alone: in a shared
// base_dir, a dir or file another user made first, or can write, would let them run their code as this
// user. These paths are checked in the same remote command that probes them, before any is used.
import { ConfigError } from "./errors.js";
import { sectionLines, wrapSection } from "./sections.js";
import { quote } from "./shell.js";

const SECTION = "private";

// $p exists: it must be no symlink, ours, and writable by nobody else. Prints "<path>\t<why>" otherwise.
const CHECK = `  [ -e "$p" ] || [ -L "$p" ] || continue
  if [ -L "$p" ]; then printf '%s\\tis a symlink\\n' "$p"; continue; fi
  if [ ! -O "$p" ]; then printf '%s\\tbelongs to %s\\n' "$p" "$(ls -ld -- "$p" | awk '{print $3}')"; continue; fi
  case "$(ls -ld -- "$p" | cut -c6,9)" in *w*) printf '%s\\tcan be written by other users\\n' "$p" ;; esac`;

// The base dir may be shared (a project space, /scratch): writable by others only when sticky (1777), so
// that nobody can rename or remove what this user made in it.
const CHECK_BASE = `case "$(ls -ld -- "$1/" 2>/dev/null | cut -c6,9,10)" in *w*[!tT]) printf '%s\\tcan be written by other users and is not sticky (chmod +t)\\n' "$1" ;; esac`;

/** POSIX sh checking `base` and `paths` (those that exist), for the `private` section; parse with checkPrivatePaths. */
export function privatePathsSnippet(base: string, paths: readonly string[]): string {
  const check = [`set -- ${quote(base)}`, CHECK_BASE, `for p in ${paths.map(quote).join(" ")}; do`, CHECK, "done"].join("\n");
  return wrapSection(SECTION, `(\n${check}\n)`);
}

/** Throws a ConfigError naming every path that is not the user's alone (the section's lines). */
export function checkPrivatePaths(output: string, target: string): void {
  const problems = (sectionLines(output, SECTION) ?? []).filter(Boolean).map((line) => line.replace("\t", " "));
  if (problems.length === 0) return;
  throw new ConfigError(
    "base_dir",
    `on ${target}, slurmray will not use what another user could change (they could run their code as you):\n  ${problems.join("\n  ")}\n` +
      "Remove these if they are yours to remove, or set base_dir to a dir of your own.",
  );
}
