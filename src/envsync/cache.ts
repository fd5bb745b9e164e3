// The local cache of a remote env's state, per target and env: .slurmray/cache/<targetKey>/env-<name>.json.
// It is trusted only while the remote stamp still has the id it was taken under (see remote-state.ts),
// so a venv changed behind slurmray's back is noticed.
import { rmSync } from "node:fs";
import { basename, join } from "node:path";
import { writeJsonAtomic } from "../util/fs.js";
import { fail, isObject, readCache } from "../util/json-file.js";
import { isProbedEnvironment, type ProbedEnvironment } from "./distributions.js";
import type { SkippedDistribution } from "./parity.js";
import type { Pin } from "./unavailable.js";

export interface EnvCacheEntry {
  /** The id of the remote stamp this state was read under. */
  stampId: string;
  /** null: this machine made the env (so it is known) but has not read its state since. */
  state: ProbedEnvironment | null;
  /** The local distributions that env cannot hold, as the sync that stamped it found them. */
  skipped?: SkippedDistribution[];
  /**
   * Pins the remote's installer found no distribution of for its platform (unavailable.ts): later plans leave
   * them out at once. Kept whatever the stamp id, since they depend on the target, not on the env's state.
   */
  unavailable?: Pin[];
}

export interface EnvCacheKey {
  cacheDir: string;
  targetKey: string;
  /** The remote env dir; its last component names the cache file. */
  envDir: string;
}

export function envCachePath({ cacheDir, targetKey, envDir }: EnvCacheKey): string {
  const safe = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, "_");
  return join(cacheDir, safe(targetKey), `env-${safe(basename(envDir))}.json`);
}

function checkEntry(value: unknown): EnvCacheEntry {
  if (!isObject(value) || typeof value.stampId !== "string") return fail("expected {stampId, state}");
  const { state } = value;
  if (state !== null && !isProbedEnvironment(state)) return fail("state: expected a probed environment");
  const { skipped, unavailable } = value;
  const entry: EnvCacheEntry = { stampId: value.stampId, state };
  if (skipped !== undefined) {
    const valid = Array.isArray(skipped) && skipped.every((s) => isObject(s) && typeof s.name === "string" && typeof s.reason === "string");
    if (!valid) return fail("skipped: expected a list of {name, reason}");
    entry.skipped = skipped as SkippedDistribution[];
  }
  if (unavailable !== undefined) {
    const valid = Array.isArray(unavailable) && unavailable.every((p) => isObject(p) && typeof p.name === "string" && typeof p.version === "string");
    if (!valid) return fail("unavailable: expected a list of {name, version}");
    entry.unavailable = unavailable as Pin[];
  }
  return entry;
}

/** The cached state, or null (missing, or invalid: then it is removed and the env probed afresh). */
export function readEnvCache(key: EnvCacheKey): EnvCacheEntry | null {
  return readCache(envCachePath(key), checkEntry);
}

export function writeEnvCache(key: EnvCacheKey, entry: EnvCacheEntry | null): void {
  if (entry) writeJsonAtomic(envCachePath(key), entry);
  else rmSync(envCachePath(key), { force: true });
}
