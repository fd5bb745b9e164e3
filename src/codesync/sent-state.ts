// The sent state: per target, the manifest last sent (its tree existed when it was sent), the base of the
// next delta. Its id is also kept alone in a small file, read by every run; the entries only when
// something changed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isHashColumn, isSha256, type ManifestRecord } from "./manifest.js";

/** The manifest last sent to a target, whose tree existed when it was sent. */
export interface SentState {
  id: string;
  entries: ManifestRecord[];
}

/**
 * The sent state on disk, in columns: entry i is paths[i], sha[64i..64i+63], modes[i], and a link's target
 * when links holds [i, target]. At 100,000 files a third of the time to parse and to write of one object
 * per entry.
 */
interface SentColumns {
  id: string;
  paths: string[];
  sha: string;
  modes: number[];
  links: [index: number, target: string][];
}

export function stateFile(cacheDir: string, targetKey: string): string {
  return join(cacheDir, targetKey, "code-state.json");
}

export function toColumns(id: string, entries: readonly ManifestRecord[]): SentColumns {
  const links: [number, string][] = [];
  entries.forEach((e, i) => {
    if (e.link !== undefined) links.push([i, e.link]);
  });
  return { id, paths: entries.map((e) => e.path), sha: entries.map((e) => e.sha256).join(""), modes: entries.map((e) => e.mode), links };
}

/** The records of valid columns, else null (then the whole manifest is sent, never a delta). */
function fromColumns(value: Partial<SentColumns>): SentState | null {
  const { id, paths, sha, modes, links } = value;
  const valid =
    typeof id === "string" &&
    Array.isArray(paths) &&
    paths.every((p) => typeof p === "string") &&
    typeof sha === "string" &&
    isHashColumn(sha, paths.length) &&
    Array.isArray(modes) &&
    modes.length === paths.length &&
    modes.every((m) => typeof m === "number") &&
    Array.isArray(links) &&
    links.every((l) => Array.isArray(l) && Number.isInteger(l[0]) && l[0] >= 0 && l[0] < paths.length && typeof l[1] === "string");
  if (!valid) return null;
  const entries: ManifestRecord[] = paths.map((path, i) => ({ path, sha256: sha.slice(64 * i, 64 * i + 64), mode: modes[i]! }));
  for (const [i, target] of links) entries[i]!.link = target;
  return { id, entries };
}

function readSent(cacheDir: string, targetKey: string): SentState | null {
  try {
    return fromColumns(JSON.parse(readFileSync(stateFile(cacheDir, targetKey), "utf8")) as Partial<SentColumns>);
  } catch {
    return null;
  }
}

/** The id alone, beside the state: a sync with nothing changed never parses the entries (9 MB at 100,000 files). */
export function idFile(cacheDir: string, targetKey: string): string {
  return join(cacheDir, targetKey, "code-id");
}

/** The id to ask the probe about: the manifest last sent to this target. */
export function lastCodeId(cacheDir: string, targetKey: string): string | null {
  try {
    const id = readFileSync(idFile(cacheDir, targetKey), "utf8");
    if (isSha256(id)) return id;
  } catch {
    // none yet, or written by a version without it: the state file has the id too
  }
  return readSent(cacheDir, targetKey)?.id ?? null;
}

/**
 * The sent state of manifest `id`, or null when the state file holds another (an interrupted write: the
 * state is written before the id file); then the whole manifest is sent, never a delta against a wrong base.
 */
export function sentState(cacheDir: string, targetKey: string, id: string): SentState | null {
  const state = readSent(cacheDir, targetKey);
  return state?.id === id ? state : null;
}
