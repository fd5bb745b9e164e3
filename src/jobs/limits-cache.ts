// The scheduler's limits, kept a few minutes per target: a warm run asks for them at most that often (they
// ride in the batched probe when stale, so asking costs no extra remote command either way).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { LimitsCheck } from "../backends/types.js";
import type { JobSpec } from "../model/job.js";
import { writeJsonAtomic } from "../util/fs.js";
import { sectionLines } from "../util/sections.js";

const LIFE_MS = 10 * 60 * 1000;

function file(cacheDir: string, target: string): string {
  return join(cacheDir, target, "limits.json");
}

/** The cached section lines while fresh; null when missing, stale or not what we wrote (then asked again). */
export function cachedLimits(cacheDir: string, target: string, now = Date.now()): string[] | null {
  const path = file(cacheDir, target);
  if (!existsSync(path)) return null;
  try {
    const cached = JSON.parse(readFileSync(path, "utf8")) as { at?: unknown; lines?: unknown };
    const fresh = typeof cached.at === "number" && now - cached.at < LIFE_MS && now >= cached.at;
    const valid = Array.isArray(cached.lines) && cached.lines.every((l) => typeof l === "string");
    return fresh && valid ? (cached.lines as string[]) : null;
  } catch {
    return null;
  }
}

export function saveLimits(cacheDir: string, target: string, lines: readonly string[]): void {
  writeJsonAtomic(file(cacheDir, target), { at: Date.now(), lines });
}

/** The probe snippet to add (null when the cache answers), and how to check once the probe has run. */
export function limitsStep(limits: LimitsCheck | null, cacheDir: string, target: string) {
  const cached = limits ? cachedLimits(cacheDir, target) : null;
  return {
    snippet: limits && !cached ? limits.snippet : "",
    check(spec: JobSpec, probeOutput: string): void {
      if (!limits) return;
      const lines = cached ?? sectionLines(probeOutput, limits.section);
      if (lines === null) return;
      if (!cached) saveLimits(cacheDir, target, lines);
      limits.check(spec, lines);
    },
  };
}
