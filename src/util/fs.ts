// Atomic file writes: a reader (another shell running `slurmray status`) never sees half a record.
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  stageFile(path, data, mode).commit();
}

export interface StagedFile {
  /** Puts the written file in place, in one rename. */
  commit(): void;
  /** Removes it instead. */
  discard(): void;
}

/** Writes `data` beside `path` now, for putting in place later (or not): the slow part done ahead. */
export function stageFile(path: string, data: string | Buffer, mode = 0o600): StagedFile {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, data, { mode });
  return { commit: () => renameSync(temp, path), discard: () => rmSync(temp, { force: true }) };
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
