// The server kind's half on this side of remote/queue.py: its command lines (one remote command per
// operation) and its JSON replies, validated before use: a reply is data from the target, never trusted.
import type { JobRecord, JobState } from "../../model/job.js";
import { RemoteCommandError } from "../../util/errors.js";
import { quote } from "../../util/shell.js";
import type { JobStatus } from "../types.js";

export const DEFAULT_QUEUE_DIR = "/tmp/slurmray-queue";

export interface ServerLimits {
  cpus: number;
  /** GB */
  mem: number;
  /** The GPU ids jobs may be given. */
  gpus: number[];
}

/** One job as queue.py's poll and list show it. */
export interface QueueJob {
  id: string;
  user: string;
  state: JobState | "UNKNOWN";
  position: number | null;
  reason: string;
  cpus: number;
  mem: number;
  gpus: number;
  /** seconds since the epoch */
  submitted: number | null;
  started: number | null;
  ended: number | null;
  exitCode: number | null;
  gpuIds: number[];
}

/** Queue job ids: USER.NUMBER. */
export const QUEUE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*\.[0-9]{1,20}$/;

const STATES = new Set(["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "UNKNOWN"]);

/** `python queue.py --queue-dir Q [--limits L] OP ARGS…`, quoted. */
export function queueCommand(python: string, runtimeDir: string, queueDir: string, limits: ServerLimits | null, op: string, args: readonly string[] = []): string {
  const global = ["--queue-dir", queueDir, ...(limits ? ["--limits", JSON.stringify(limits)] : [])];
  return [python, `${runtimeDir}/queue.py`, ...global, op, ...args].map(quote).join(" ");
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function queueJob(raw: unknown): QueueJob | null {
  if (typeof raw !== "object" || raw === null) return null;
  const j = raw as Record<string, unknown>;
  if (typeof j["id"] !== "string" || !QUEUE_ID.test(j["id"]) || typeof j["state"] !== "string" || !STATES.has(j["state"])) return null;
  return {
    id: j["id"],
    user: typeof j["user"] === "string" ? j["user"] : "",
    state: j["state"] as QueueJob["state"],
    position: num(j["position"]),
    reason: typeof j["reason"] === "string" ? j["reason"] : "",
    cpus: num(j["cpus"]) ?? 0,
    mem: num(j["mem"]) ?? 0,
    gpus: num(j["gpus"]) ?? 0,
    submitted: num(j["submitted"]),
    started: num(j["started"]),
    ended: num(j["ended"]),
    exitCode: num(j["exit_code"]),
    gpuIds: Array.isArray(j["gpu_ids"]) ? j["gpu_ids"].filter((g): g is number => typeof g === "number") : [],
  };
}

/** queue.py's one JSON document; its error (exit 1 or 2) becomes a RemoteCommandError with its message. */
export function parseReply(what: string, command: string, code: number, stdout: string, stderr: string): Record<string, unknown> {
  let reply: unknown = null;
  try {
    reply = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
  } catch {
    reply = null;
  }
  const object = typeof reply === "object" && reply !== null ? (reply as Record<string, unknown>) : null;
  if (code !== 0 || !object || "error" in object) {
    const message = object && typeof object["error"] === "string" ? object["error"] : stderr.trim() || stdout.trim();
    throw new RemoteCommandError(what, command, code === 0 ? 1 : code, message);
  }
  return object;
}

/** The jobs of a poll or list reply; entries that are not well-formed are dropped. */
export function parseJobs(reply: Record<string, unknown>): QueueJob[] {
  const jobs = Array.isArray(reply["jobs"]) ? reply["jobs"] : [];
  return jobs.map(queueJob).filter((j): j is QueueJob => j !== null);
}

/** The queue ids of a submit's reply, one per --job-dir, in order; anything else is refused. */
export function parseSubmittedIds(reply: Record<string, unknown>): string[] {
  const ids = reply["ids"];
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === "string" && QUEUE_ID.test(id))) {
    throw new RemoteCommandError("Queueing the job", "queue.py submit", 1, `unexpected reply ${JSON.stringify(reply)}`);
  }
  return ids as string[];
}

/** A time of the queue's reply as ISO text; null for none, or for one no date can hold (toISOString would throw). */
export function iso(seconds: number | null): string | null {
  const date = seconds === null ? null : new Date(seconds * 1000);
  return date === null || Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A queue entry as a job status; an entry the queue no longer has keeps the record's last word. */
export function queueStatus(job: JobRecord, entry: QueueJob | undefined): JobStatus {
  if (!entry || entry.state === "UNKNOWN") {
    return { state: job.state, reason: job.reason ?? "no longer in the queue", exitCode: job.exitCode, startedAt: job.startedAt, endedAt: job.endedAt, nodes: null };
  }
  const reason = entry.state === "PENDING" ? `${entry.reason || "Resources"}${entry.position !== null ? `, position ${entry.position}` : ""}` : entry.reason || null;
  return { state: entry.state as JobState, reason, exitCode: entry.exitCode, startedAt: iso(entry.started), endedAt: iso(entry.ended), nodes: null };
}
