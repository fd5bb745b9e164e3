// The stamp: the file in an env recording the snapshot it was last made to satisfy. Written by the apply
// script (temp file + rename) only after an install succeeded; one JSON line, so a sh `grep` can match its
// hash or id without starting Python.
import { randomBytes } from "node:crypto";
import type { Snapshot } from "./snapshot.js";

export const STAMP_FILE = ".slurmray-env.json";

export interface Stamp {
  version: 1;
  /** The snapshot hash the env satisfies. */
  hash: string;
  /** Unique per write: the local state cache is trusted only while the remote stamp has this id. */
  id: string;
  /** The Python major.minor of the snapshot. */
  python: string;
  time: string;
  requirements: string[];
  /** The env's distribution folders' checksum (remote-state.ts: SITE_SUM), added by the apply script. */
  site?: string;
}

export function newStamp(snapshot: Snapshot): Stamp {
  return {
    version: 1,
    hash: snapshot.hash,
    id: randomBytes(8).toString("hex"),
    python: snapshot.pythonVersion,
    time: new Date().toISOString(),
    requirements: snapshot.requirements,
  };
}

/** The stamp as written remotely: compact JSON on one line ("hash":"…" with no spaces, for grep). */
export function stampLine(stamp: Stamp): string {
  return JSON.stringify(stamp);
}

/** A stamp read back, or null when the value is not one (absent, truncated, from another version). */
export function parseStamp(value: unknown): Stamp | null {
  if (typeof value === "string") {
    try {
      return parseStamp(JSON.parse(value));
    } catch {
      return null;
    }
  }
  const stamp = value as Partial<Stamp> | null;
  const valid =
    stamp !== null &&
    typeof stamp === "object" &&
    stamp.version === 1 &&
    typeof stamp.hash === "string" &&
    typeof stamp.id === "string" &&
    Array.isArray(stamp.requirements);
  return valid ? (stamp as Stamp) : null;
}
