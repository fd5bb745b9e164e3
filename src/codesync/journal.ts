// The remote copy of the manifest, kept as a journal: one full line, then one line per sync with only
// what changed. A one-file sync then appends a few hundred bytes instead of re-sending the manifest of the
// whole project. The journal is only read back when the local cache cannot vouch for the stamp.
import { isSafeName } from "../util/names.js";
import { byPath, checkManifestEntries, type Manifest, type ManifestEntry } from "./manifest.js";

type Line = { entries: Manifest } | { changed: ManifestEntry[]; deleted: string[] };

export function fullLine(manifest: Manifest): string {
  return `${JSON.stringify({ entries: manifest })}\n`;
}

export function deltaLine(changed: ManifestEntry[], deleted: string[]): string {
  return `${JSON.stringify({ changed, deleted })}\n`;
}

/** The manifest a journal describes, or null when it is not a well-formed journal (or names a path outside the code dir). */
export function replayJournal(text: string): Manifest | null {
  const entries = new Map<string, ManifestEntry>();
  const lines = text.split("\n").filter(Boolean);
  try {
    for (const [i, raw] of lines.entries()) {
      const line = JSON.parse(raw) as Line;
      if ("entries" in line) {
        if (i !== 0) return null;
        for (const e of checkManifestEntries(line.entries)) entries.set(e.path, e);
      } else {
        if (i === 0 || !Array.isArray(line.deleted) || !line.deleted.every((p) => typeof p === "string" && isSafeName(p))) return null;
        for (const e of checkManifestEntries(line.changed)) entries.set(e.path, e);
        for (const p of line.deleted) entries.delete(p);
      }
    }
  } catch {
    return null;
  }
  return lines.length ? [...entries.values()].sort(byPath) : null;
}
