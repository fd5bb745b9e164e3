// The scan stamp: when every selected file keeps the (size, ctime, inode) it had when the last local
// manifest was built (the very key the hash cache trusts), that manifest is known without reading the
// hash cache or hashing 100,000 entries again. One digest of every selected file's stat tuple and every
// link's target is kept with the manifest's id; a sync whose digest matches takes the id as it is.
// Every change to a file changes its ctime (even one whose mtime is then set back), hence the digest, and
// the full path runs.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.js";
import { fail, isObject, readCache } from "../util/json-file.js";
import { racilyRecent } from "../util/racy.js";
import { isSha256, localManifest, type Manifest, sha256 } from "./manifest.js";
import type { Selection } from "./select.js";
import { manifestId } from "./store.js";

const STAMP_FILE = "codesync-scan.json";
// The last scan's digest, whatever came of it: a hint for a sync (whether to start its upload before the
// manifest is built), never a reason to send or skip anything.
const SEEN_FILE = "codesync-seen";
// Bumped whenever what a manifest holds for the same files changes (as the hash cache's version is), or
// how the digest is computed (2: paths and numbers hashed as they are, not as JSON; 3: the ctime, not the mtime).
const STAMP_VERSION = 3;

interface Stamp {
  version: typeof STAMP_VERSION;
  scan: string;
  id: string;
  /** sha256 of the other fields: a corrupt or hand-edited stamp is discarded, never trusted. */
  check: string;
}

function checkOf(scan: string, id: string): string {
  return sha256(`slurmray-scan ${STAMP_VERSION} ${scan} ${id}`);
}

function checkStamp(value: unknown): Stamp {
  const valid =
    isObject(value) &&
    value.version === STAMP_VERSION &&
    typeof value.scan === "string" &&
    isSha256(value.scan) &&
    typeof value.id === "string" &&
    isSha256(value.id) &&
    value.check === checkOf(value.scan, value.id);
  return valid ? (value as unknown as Stamp) : fail("expected a scan stamp");
}

/**
 * The digest of what the local manifest is built from: the root, each selected file's path, size,
 * ctime, inode, mode and whether config `files` asked for it (a requested file skips the password
 * check), each link's path and target. Paths are joined with NUL, which no name holds, and the numbers
 * hashed as the bytes of doubles: at 100,000 files, formatting them as text took most of the time.
 */
export function scanDigest(root: string, selection: Selection): string {
  const requested = selection.requested ?? new Set<string>();
  const numbers = new Float64Array(selection.files.length * 5);
  selection.files.forEach((f, i) => {
    numbers.set([f.size, f.ctimeMs, f.ino, f.mode, requested.has(f.path) ? 1 : 0], i * 5);
  });
  const links = selection.symlinks.map((l) => [l.path, l.target]);
  return createHash("sha256")
    .update(JSON.stringify([STAMP_VERSION, root, selection.files.length, links]))
    .update(selection.files.map((f) => f.path).join("\0"), "utf16le") // lossless: an escaped byte is a lone surrogate
    .update(numbers)
    .digest("hex");
}

export interface LocalManifest {
  entries: Manifest;
  id: string;
}

export interface ScannedManifest {
  /** The id the stamp vouches for (no selected file changed since that manifest was built), or null. */
  stamped: string | null;
  /** Whether the last scan saw exactly these files (a hint: it may be stale or tampered with). */
  seenBefore: boolean;
  /** The manifest's id: the stamped one, else that of the manifest, built when first asked for. */
  readonly id: string;
  /** The manifest itself, built (and its id computed afresh) when first asked for. */
  manifest(): LocalManifest;
}

function build(root: string, selection: Selection, cacheDir: string): LocalManifest {
  const entries = localManifest(root, selection, cacheDir);
  return { entries, id: manifestId(entries) };
}

/** Whether the last scan's digest was `scan`; records `scan` as the last one when it was not. */
function seen(cacheDir: string, scan: string): boolean {
  const file = join(cacheDir, SEEN_FILE);
  let last = "";
  try {
    last = readFileSync(file, "utf8");
  } catch {
    // no scan yet
  }
  if (last !== scan) writeFileAtomic(file, scan);
  return last === scan;
}

/**
 * The local manifest's id, through the stamp when nothing changed. A new stamp is written only for a
 * manifest that is the scan's whole truth: every selected file in it (none gone since it was selected,
 * none left out for a password, whose warning must come again) and none modified within the clock's
 * tick of the scan (a second change in that tick would keep its ctime; see racilyRecent).
 */
export function scanManifest(root: string, selection: Selection, cacheDir: string): ScannedManifest {
  const file = join(cacheDir, STAMP_FILE);
  const scan = scanDigest(root, selection);
  const stamp = readCache(file, checkStamp);
  const stamped = stamp?.scan === scan ? stamp.id : null;
  const seenBefore = seen(cacheDir, scan);
  let built: LocalManifest | undefined;
  const manifest = () => {
    if (built) return built;
    const now = Date.now();
    built = build(root, selection, cacheDir);
    const whole = built.entries.length === selection.files.length + selection.symlinks.length;
    if (stamped === null && whole && !selection.files.some((f) => racilyRecent(f.ctimeMs, now))) {
      writeFileAtomic(file, JSON.stringify({ version: STAMP_VERSION, scan, id: built.id, check: checkOf(scan, built.id) } satisfies Stamp));
    }
    return built;
  };
  return {
    stamped,
    seenBefore,
    get id() {
      return stamped ?? manifest().id;
    },
    manifest,
  };
}
