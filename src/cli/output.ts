// Output rules of the CLI contract: human text goes to stderr whenever --json is on; with --json exactly
// one JSON object goes to stdout.
import pc from "picocolors";
import type { JobRecord, RemoteError } from "../model/job.js";
import { formatRemoteError } from "../model/outcome.js";
import { writeJson } from "../util/json-text.js";

export type Verbosity = "quiet" | "normal" | "verbose";

let verbosity: Verbosity = "normal";

export function currentVerbosity(): Verbosity {
  return verbosity;
}

/** --quiet: errors only. --verbose: also every remote command, with its exit code and duration. */
export async function setVerbosity(level: Verbosity): Promise<void> {
  verbosity = level;
  if (level !== "verbose") return;
  const { observeCommands } = await import("../transport/base.js");
  observeCommands(({ command, code, ms }) => {
    const shown = command.length > 160 ? `${command.slice(0, 157)}...` : command;
    process.stderr.write(pc.dim(`  $ ${shown}  [${code === null ? "connection lost" : `exit ${code}`}, ${Math.round(ms)} ms]\n`));
  });
}

/** Pretty-prints a value; a result's JSON text inside it is re-indented piece by piece, never parsed or copied whole. */
export function printJson(value: unknown): void {
  writeJson(value, (chunk) => process.stdout.write(chunk));
  process.stdout.write("\n");
}

export function info(message: string): void {
  if (verbosity !== "quiet") process.stderr.write(`${pc.dim("slurmray")} ${message}\n`);
}

export function warn(message: string): void {
  if (verbosity !== "quiet") process.stderr.write(`${pc.yellow("warning")} ${message}\n`);
}

export function elapsed(job: JobRecord, now = Date.now()): string {
  const start = Date.parse(job.startedAt ?? job.createdAt);
  const end = job.endedAt ? Date.parse(job.endedAt) : now;
  const seconds = Math.max(0, Math.round((end - start) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
}

const STATE_COLOR: Record<string, (s: string) => string> = {
  COMPLETED: pc.green,
  RUNNING: pc.cyan,
  PENDING: pc.yellow,
  SUBMITTING: pc.yellow,
};

export function colorState(state: string): string {
  return (STATE_COLOR[state] ?? pc.red)(state);
}

/** A plain aligned table. Colour codes are added after padding so alignment holds. */
export function table(headers: string[], rows: string[][], color: (column: number, cell: string) => string = (_c, s) => s): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[], paint: boolean) =>
    cells.map((cell, i) => (paint ? color(i, cell) : cell) + " ".repeat(widths[i]! - cell.length)).join("  ").trimEnd();
  return [pc.bold(line(headers, false)), ...rows.map((r) => line(r, true))].join("\n");
}

export function jobRow(job: JobRecord): string[] {
  return [job.id, job.target, job.state, elapsed(job), job.spec.entry];
}

export const JOB_HEADERS = ["JOB", "TARGET", "STATE", "ELAPSED", "ENTRY"];

/**
 * Says once that a job did not complete. When its log was just shown, the traceback is already on screen (the
 * runner writes it to the log): only its last line is repeated, in the summary.
 */
export function printFailure(job: { id: string; state: string; reason?: string | null }, error: RemoteError | null, logShown: boolean): void {
  if (error && !logShown) process.stderr.write(`${formatRemoteError(error)}\n`);
  const why = error ? `: ${error.type}: ${error.message}` : job.reason ? `: ${job.reason}` : "";
  process.stderr.write(`${pc.red("error")} job ${job.id} ended ${job.state}${why}\n`);
}
