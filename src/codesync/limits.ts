// Size limits: not a refusal, a warning naming the largest files, because a 2 GB checkpoint shipped by
// accident on every run is the usual cause of a slow start.
import { displayName } from "./names.js";
import type { SelectedFile } from "./select.js";

export interface SizeLimits {
  /** Warn when the selection is larger than this (default 100 MB). */
  totalBytes: number;
  /** Warn about each file larger than this (default 20 MB). */
  fileBytes: number;
}

export const DEFAULT_LIMITS: SizeLimits = { totalBytes: 100 * 1024 * 1024, fileBytes: 20 * 1024 * 1024 };
const SHOWN = 5;

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function listing(files: readonly SelectedFile[]): string {
  const largest = [...files].sort((a, b) => b.size - a.size).slice(0, SHOWN);
  return largest.map((f) => `${displayName(f.path)} (${megabytes(f.size)})`).join(", ");
}

const HINT = "add them to .slurmrayignore or `exclude` if the job does not need them";

export function sizeWarnings(files: readonly SelectedFile[], limits: Partial<SizeLimits> = {}): string[] {
  const { totalBytes, fileBytes } = { ...DEFAULT_LIMITS, ...limits };
  const warnings: string[] = [];
  const big = files.filter((f) => f.size > fileBytes);
  if (big.length) {
    warnings.push(`${big.length} file(s) larger than ${megabytes(fileBytes)}: ${listing(big)}; ${HINT}`);
  }
  const total = files.reduce((sum, f) => sum + f.size, 0);
  if (total > totalBytes) {
    warnings.push(`The project's files total ${megabytes(total)}, above ${megabytes(totalBytes)}; largest: ${listing(files)}; ${HINT}`);
  }
  return warnings;
}
