// One shell command over many paths, in chunks: an array's element dirs are made, chmod'ed, cleared and queued
// with a few processes whatever its size (a process per element cost ~1 ms each on a login node, a Python
// start ~50 ms), and no command line nears ARG_MAX.
import { chunks } from "../util/chunks.js";
import { quote } from "../util/shell.js";
import { jobPaths } from "./types.js";

/** Paths (or job dirs) per command. */
export const ARGS_PER_COMMAND = 256;

/** `command` (a fixed, trusted prefix such as "mkdir -p") over `args`, quoted, as one command per chunk. */
export function batchedCommands(command: string, args: readonly string[]): string[] {
  return chunks(args, ARGS_PER_COMMAND).map((slice) => `${command} ${slice.map(quote).join(" ")}`);
}

/**
 * A submission's element dirs below `top` made private, and what a retried element left cleared (its result,
 * error, status and Ray dir; its log is kept), in a few batched commands.
 */
export function elementDirCommands(top: string, dirs: readonly string[]): string[] {
  const made = dirs.filter((dir) => dir !== top);
  const stale = dirs.flatMap((dir) => {
    const paths = jobPaths(dir);
    return [paths.resultJson, paths.resultPkl, paths.error, paths.status, `${dir}/ray`];
  });
  return [...batchedCommands("mkdir -p", made), ...batchedCommands("chmod 700", made), ...batchedCommands("rm -rf", stale)];
}
