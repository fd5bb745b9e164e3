// The batched status probe: one remote command for all of a user's jobs. squeue first; for the jobs
// that left the queue (or ended in it), sacct and the runner's status.json in the job dir. sacct lags
// squeue by a few seconds and some clusters have no accounting, so a job that neither knows is not taken
// as ended until it has been missing for a while (see resolveStatus).
import type { JobRecord, JobState } from "../../model/job.js";
import type { RunnerStatus } from "../watch/types.js";
import { RemoteCommandError } from "../../util/errors.js";
import { quote } from "../../util/shell.js";
import type { JobStatus } from "../types.js";
import { expandHostlist } from "./format.js";
import { checkSlurmJobId } from "./ids.js";
import { sectionLines, wrapSection } from "../../util/sections.js";
import { ENDED_SLURM_STATES, mapSlurmState, parseExitCode } from "./states.js";

export const STATUS_SECTION = "slurm-status";

export interface PollTarget {
  schedulerId: string;
  /** The job dir (absolute), for the runner's status.json. */
  dir: string;
}

export interface SqueueRow {
  slurmState: string;
  reason: string;
  elapsed: string;
  nodes: string[];
  partition: string;
}

export interface SacctRow {
  slurmState: string;
  exitCode: number | null;
  start: string | null;
  end: string | null;
  nodes: string[];
}


export interface StatusProbe {
  squeue: Map<string, SqueueRow>;
  /** Queue position of pending jobs in their partition (1 = next). */
  positions: Map<string, number>;
  /** null when sacct failed (no accounting on this cluster): sacctError says why. */
  sacct: Map<string, SacctRow> | null;
  sacctError: string | null;
  runner: Map<string, RunnerStatus>;
}

const ENDED_PATTERN = ENDED_SLURM_STATES.join("|");

/** POSIX sh printing the status of these jobs between the slurm-status markers. */
export function statusSnippet(jobs: readonly PollTarget[]): string {
  const ids = jobs.map((j) => checkSlurmJobId(j.schedulerId)).join(",");
  const runnerFiles = jobs.map((j) => {
    const file = quote(`${j.dir}/status.json`);
    const id = quote(j.schedulerId);
    return `case "$sr_gone," in *,${id},*) [ -f ${file} ] && { printf 'f|%s|' ${id}; head -c 65536 ${file}; echo; } ;; esac`;
  });
  return wrapSection(
    STATUS_SECTION,
    [
      `sr_ids=${quote(ids)}`,
      // -r: one line per array element ("123_7"), pending ones too, never "123_[7-19%5]".
      `sr_q=$(squeue -h -r -j "$sr_ids" -o 'q|%i|%T|%r|%M|%N|%P' 2>&1)`,
      `echo "squeue-exit|$?"`,
      `printf '%s\\n' "$sr_q"`,
      // Queue position of each pending job: one squeue per partition that holds one.
      `printf '%s\\n' "$sr_q" | awk -F'|' '$1 == "q" && $3 == "PENDING" {print $7}' | sort -u | while read -r sr_p; do`,
      `  squeue -h -r -t PD -p "$sr_p" --sort=-p,i -o '%i' 2>/dev/null | awk -v ids=",$sr_ids," 'index(ids, "," $1 ",") {print "pos|" $1 "|" NR}'`,
      "done",
      `sr_gone=$(printf '%s\\n' "$sr_q" | awk -F'|' -v ids="$sr_ids" 'BEGIN {n = split(ids, all, ",")} $1 == "q" && $3 !~ /^(${ENDED_PATTERN})$/ {active[$2] = 1} END {for (i = 1; i <= n; i++) if (!(all[i] in active)) printf ",%s", all[i]}')`,
      `if [ -n "$sr_gone" ]; then`,
      `  sr_a=$(sacct -n -P -X -j "\${sr_gone#,}" -o JobID,State,ExitCode,Start,End,NodeList 2>&1)`,
      `  echo "sacct-exit|$?"`,
      `  printf '%s\\n' "$sr_a" | sed 's/^/a|/'`,
      ...runnerFiles.map((line) => `  ${line}`),
      "fi",
    ].join("\n"),
  );
}

function dateOrNull(raw: string | undefined): string | null {
  return raw && /^\d{4}-/.test(raw) ? raw : null;
}

function parseRunnerStatus(json: string): RunnerStatus | null {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === "object" ? (value as RunnerStatus) : null;
  } catch {
    return null; // written atomically, but a truncated read (head -c) is possible for a huge file
  }
}

/** Parses the lines of a slurm-status section. Throws RemoteCommandError when squeue itself failed. */
export function parseStatusLines(lines: readonly string[]): StatusProbe {
  const probe: StatusProbe = { squeue: new Map(), positions: new Map(), sacct: new Map(), sacctError: null, runner: new Map() };
  const squeueText: string[] = [];
  const sacctText: string[] = [];
  let squeueExit = 0;
  let sacctExit = 0;
  for (const line of lines) {
    const fields = line.split("|");
    const [kind] = fields;
    if (kind === "q" && fields.length >= 7) {
      const [, id, slurmState, reason, elapsed, nodes, partition] = fields as [string, string, string, string, string, string, string];
      probe.squeue.set(id, { slurmState, reason, elapsed, nodes: expandHostlist(nodes), partition });
    } else if (kind === "pos") probe.positions.set(fields[1]!, Number(fields[2]));
    else if (kind === "squeue-exit") squeueExit = Number(fields[1]);
    else if (kind === "sacct-exit") sacctExit = Number(fields[1]);
    else if (kind === "a") {
      sacctText.push(fields.slice(1).join("|"));
      if (fields.length >= 7) {
        const [, id, slurmState, exit, start, end, nodes] = fields as [string, string, string, string, string, string, string];
        probe.sacct!.set(id, { slurmState, exitCode: parseExitCode(exit), start: dateOrNull(start), end: dateOrNull(end), nodes: expandHostlist(nodes) });
      }
    } else if (kind === "f") {
      const status = parseRunnerStatus(fields.slice(2).join("|"));
      if (status) probe.runner.set(fields[1]!, status);
    } else if (line.trim() !== "") squeueText.push(line);
  }
  // squeue -j exits 1 with "Invalid job id specified" when none of the ids is known any more: not an error.
  if (squeueExit !== 0 && !/invalid job id/i.test(squeueText.join("\n"))) {
    throw new RemoteCommandError("squeue", "squeue -h -j …", squeueExit, squeueText.join("\n"));
  }
  if (sacctExit !== 0) {
    probe.sacct = null;
    probe.sacctError = sacctText.join("\n").trim() || `sacct exited with code ${sacctExit}`;
  }
  return probe;
}

/** Parses the slurm-status section out of a whole command's output. */
export function parseStatusOutput(stdout: string): StatusProbe {
  const lines = sectionLines(stdout, STATUS_SECTION);
  if (lines === null) throw new RemoteCommandError("the job status command", "squeue/sacct", 1, stdout.slice(-2000));
  return parseStatusLines(lines);
}

/** How long a job may be missing from both squeue and sacct before its job dir decides (sacct lag, no accounting). */
export const ABSENT_GRACE_MS = 60_000;

const RUNNER_FINAL: Record<string, JobState> = { COMPLETED: "COMPLETED", FAILED: "FAILED", CANCELLED: "CANCELLED" };

function pendingReason(row: SqueueRow, position: number | undefined): string {
  const why = row.reason === "None" || row.reason === "" ? "waiting to be scheduled" : row.reason;
  return position === undefined ? why : `${why}; position ${position} in partition ${row.partition}`;
}

/**
 * The status of one job from a probe. `absentMs` is how long the job has been missing from both squeue
 * and sacct (0 when it was seen in this probe or first missed now).
 */
export function resolveStatus(job: JobRecord, probe: StatusProbe, absentMs: number): JobStatus {
  const id = job.schedulerId ?? "";
  const runner = probe.runner.get(id) ?? null;
  const fromRunner = {
    exitCode: runner?.exit_code ?? null,
    startedAt: runner?.started_at ?? job.startedAt,
    endedAt: runner?.ended_at ?? null,
  };
  const queued = probe.squeue.get(id);
  const queuedState = queued ? mapSlurmState(queued.slurmState) : null;
  if (queued && queuedState && (queuedState.state === "PENDING" || queuedState.state === "RUNNING")) {
    const reason = queuedState.state === "PENDING" ? pendingReason(queued, probe.positions.get(id)) : queuedState.note;
    return { state: queuedState.state, reason, exitCode: null, startedAt: fromRunner.startedAt, endedAt: null, nodes: queued.nodes.length ? queued.nodes : null };
  }
  const accounted = probe.sacct?.get(id);
  const accountedState = accounted ? mapSlurmState(accounted.slurmState) : null;
  if (accounted && accountedState && !["PENDING", "RUNNING"].includes(accountedState.state)) {
    return {
      state: accountedState.state,
      reason: accountedState.note,
      exitCode: fromRunner.exitCode ?? accounted.exitCode,
      startedAt: fromRunner.startedAt ?? accounted.start,
      endedAt: fromRunner.endedAt ?? accounted.end,
      nodes: accounted.nodes.length ? accounted.nodes : null,
    };
  }
  if (queued && queuedState) {
    return { state: queuedState.state, reason: queuedState.note, ...fromRunner, nodes: queued.nodes.length ? queued.nodes : null };
  }
  const runnerFinal = runner?.state ? RUNNER_FINAL[runner.state] : undefined;
  // A runner stopped by a signal does not know why (a cancel, a failed node, a preemption): Slurm's verdict
  // is awaited while the job may still be in sacct's lag; without accounting nothing else will ever say.
  const verdictAwaited = runnerFinal === "CANCELLED" && probe.sacct !== null && absentMs < ABSENT_GRACE_MS;
  if (runnerFinal && !verdictAwaited) return { state: runnerFinal, reason: null, ...fromRunner, nodes: null };
  if (absentMs < ABSENT_GRACE_MS) return { state: job.state, reason: job.reason, ...fromRunner, nodes: null };
  const why = probe.sacct === null ? `and this cluster has no job accounting to say why (${probe.sacctError})` : "and accounting has no record of it";
  return { state: "FAILED", reason: `Slurm no longer knows job ${id}, it left no result, ${why}`, ...fromRunner, nodes: null };
}

/** Whether Slurm itself accounted for the job in this probe (else it may be in sacct's lag). */
function seenBySlurm(id: string, probe: StatusProbe): boolean {
  return probe.squeue.has(id) || probe.sacct?.has(id) === true;
}

/** Turns successive probes into statuses, remembering since when each job has been missing from Slurm. */
export class StatusTracker {
  /** When each job was first missing from both squeue and sacct (ms since epoch). */
  readonly #absentSince = new Map<string, number>();

  /** The status of each submitted job (by job id) in this probe. */
  statuses(jobs: readonly JobRecord[], probe: StatusProbe, now = Date.now()): Map<string, JobStatus> {
    const statuses = new Map<string, JobStatus>();
    for (const job of jobs) {
      const id = job.schedulerId ?? "";
      if (seenBySlurm(id, probe)) this.#absentSince.delete(id);
      else if (!this.#absentSince.has(id)) this.#absentSince.set(id, now);
      statuses.set(job.id, resolveStatus(job, probe, now - (this.#absentSince.get(id) ?? now)));
    }
    return statuses;
  }
}
