// Retention: remove remote job dirs untouched for longer than retention_days, in one remote command.
// Live jobs are never touched: those the caller names (the local registry's), those the scheduler still
// holds (asked in the same command; when it cannot answer, nothing is removed), and any dir with a file
// modified recently (a job still writing its log, or one started from another machine; the links to its code
// tree are made once and do not count). Then, in the same command, the code store's garbage collection
// (codestore.py gc, under the store's lock): trees no job dir links to and objects no tree holds, untouched
// for a day.
import type { Transport } from "../transport/types.js";
import { RemoteCommandError } from "../util/errors.js";
import { isSafeName } from "../util/names.js";
import { sectionLines, wrapSection } from "../util/sections.js";
import { quoteArgv } from "../util/shell.js";
import { gcArgv } from "./store.js";

/** Unreferenced code trees and objects are kept this long (a run between its probe and submit uses them). */
export const STORE_KEEP_MINUTES = 24 * 60;

export interface RetentionOptions {
  /** Absolute remote path of the jobs dir (<base_dir>/projects/<project>/jobs). */
  jobsDir: string;
  olderThanDays: number;
  activeJobIds: readonly string[];
  /** POSIX sh printing the ids of the jobs the scheduler still holds, one per line (none: the target has no scheduler). */
  liveJobsCommand?: string;
  /** The code store to collect after the job dirs: base_dir and the interpreter running codestore.py. */
  store?: { baseDir: string; python: string };
}

export interface RetentionResult {
  removed: string[];
  bytesFreed: number;
  /** Code trees and objects the store's collection removed. */
  treesRemoved: number;
  objectsRemoved: number;
}

const SECTION = "retention";

// $1 jobs dir, $2 age in minutes, $3 the live-jobs command, then the active job ids. Prints "<KiB>\t<id>"
// per removed dir.
const CLEAN = `dir=$1; mins=$2; live=$3; shift 3
cd -- "$dir" 2>/dev/null || exit 0
sr_live=
if [ -n "$live" ]; then
  sr_live=$(sh -c "$live") || { echo "could not ask the scheduler which jobs are alive: nothing was removed" >&2; exit 1; }
fi
find . -mindepth 1 -maxdepth 1 -type d -mmin +"$mins" | while IFS= read -r p; do
  id=\${p#./}
  for a; do [ "$a" = "$id" ] && continue 2; done
  case "
$sr_live
" in *"
$id
"*) continue ;; esac
  [ -z "$(find "$id" ! -type l -mmin -"$mins" -print 2>/dev/null | head -n 1)" ] || continue
  kb=$(du -sk -- "$id" | cut -f1)
  rm -rf -- "$id" && printf '%s\\t%s\\n' "$kb" "$id"
done
`;

function cleanCommand(options: RetentionOptions): string {
  if (!(options.olderThanDays >= 0)) throw new RangeError("olderThanDays must be a non-negative number");
  const minutes = String(Math.round(options.olderThanDays * 24 * 60));
  const jobs = quoteArgv(["sh", "-c", CLEAN, "sh", options.jobsDir, minutes, options.liveJobsCommand ?? "", ...options.activeJobIds]);
  if (!options.store) return jobs;
  // The exit status stays the job dirs' clean's (non-zero: the scheduler could not be asked).
  return `${jobs}\nsr_exit=$?\nprintf 'store %s\\n' "$(${quoteArgv(gcArgv(options.store.python, options.store.baseDir, STORE_KEEP_MINUTES))})"\n(exit "$sr_exit")`;
}

/**
 * POSIX sh that cleans and prints what it removed between the `retention` markers, for batching into
 * another remote command. With background, it detaches and prints nothing: the opportunistic form for
 * `run`, which must not wait for it.
 */
export function retentionSnippet(options: RetentionOptions, background = false): string {
  const command = cleanCommand(options);
  if (background) return `(${command}) </dev/null >/dev/null 2>&1 &`;
  return wrapSection(SECTION, `${command}\necho "exit|$?"`);
}

/**
 * What a retention section reports, or undefined when the output holds none. exitCode is the clean
 * command's own (non-zero: the scheduler could not be asked, and nothing was removed).
 */
export function parseRetention(output: string): (RetentionResult & { exitCode: number }) | undefined {
  const lines = sectionLines(output, SECTION);
  if (lines === null) return undefined;
  const result: RetentionResult & { exitCode: number } = { removed: [], bytesFreed: 0, treesRemoved: 0, objectsRemoved: 0, exitCode: 0 };
  for (const line of lines) {
    if (line.startsWith("exit|")) result.exitCode = Number(line.slice(5));
    const store = /^store (\d+) (\d+) (\d+)$/.exec(line);
    if (store) {
      result.treesRemoved = Number(store[1]);
      result.objectsRemoved = Number(store[2]);
      result.bytesFreed += Number(store[3]);
      continue;
    }
    const m = /^(\d+)\t(.+)$/.exec(line);
    // A name that is not one plain dir name (a forged or garbled reply) is not a job dir this command removed.
    if (!m || m[2]!.includes("/") || !isSafeName(m[2]!)) continue;
    result.bytesFreed += Number(m[1]) * 1024;
    result.removed.push(m[2]!);
  }
  return result;
}

/** Removes old job dirs now (`slurmray clean`), in one remote command. */
export async function cleanJobDirs(transport: Transport, options: RetentionOptions): Promise<RetentionResult> {
  const result = await transport.script(retentionSnippet(options));
  const parsed = parseRetention(result.stdout);
  if (result.code !== 0 || !parsed || parsed.exitCode !== 0) {
    throw new RemoteCommandError(`Cleaning old job dirs in ${options.jobsDir}`, "sh -s", parsed?.exitCode || result.code, result.stderr);
  }
  const { exitCode: _, ...removed } = parsed;
  return removed;
}
