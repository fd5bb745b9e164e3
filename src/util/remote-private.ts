// What slurmray keeps on a target (runtime, code, job and env dirs) must be the user's alone: in a shared
// base_dir, a dir or file another user made first, or can write, would let them run their code as this
// user. These paths are checked in the same remote command that probes them, before any is used.
import { ConfigError } from "./errors.js";
import { sectionLines, wrapSection } from "./sections.js";
import { quote } from "./shell.js";

const SECTION = "private";

// One `find` over every path (a few forks, not a few per path: login nodes are busy). A path that exists
// must be no symlink, ours, and writable by nobody else; the reason is worked out only for those that fail.
// The base dir may be shared (a project space, /scratch): writable by others only when sticky (1777), so that
// nobody can rename or remove what this user made in it. Prints "<path>\t<why>" per problem.
const CHECK = `sr_base=$1; shift
if [ -n "$(find "$sr_base/" -prune \\( -perm -020 -o -perm -002 \\) ! -perm -1000 -print 2>/dev/null)" ]; then
  printf '%s\\tcan be written by other users and is not sticky (chmod +t)\\n' "$sr_base"
fi
find "$@" -prune \\( -type l -o ! -user "$(id -u)" -o -perm -020 -o -perm -002 \\) -print 2>/dev/null | while IFS= read -r p; do
  if [ -L "$p" ]; then sr_why="is a symlink"
  elif [ ! -O "$p" ]; then sr_why="belongs to $(ls -ld -- "$p" | awk '{print $3}')"
  else sr_why="can be written by other users"; fi
  printf '%s\\t%s\\n' "$p" "$sr_why"
done`;

/** POSIX sh checking `base` and `paths` (those that exist), for the `private` section; parse with checkPrivatePaths. */
export function privatePathsSnippet(base: string, paths: readonly string[]): string {
  return wrapSection(SECTION, `(\nset -- ${[base, ...paths].map(quote).join(" ")}\n${CHECK}\n)`);
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
