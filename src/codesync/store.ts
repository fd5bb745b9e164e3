// The wire format of the code store (remote/codestore.py, docs/architecture.md "Remote layout"): the
// canonical manifest bytes whose sha256 names a code tree, the delta against a base manifest, and the
// upload frames, gzip-compressed. A frame costs 42 bytes before compression, where a tar entry cost ~1 KB.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { createGzip } from "node:zlib";
import { remoteFile } from "../remote/index.js";
import { byPath, type ManifestEntry, type ManifestRecord, sha256 } from "./manifest.js";
import { InputError } from "../util/errors.js";
import { displayName, encodeName } from "./names.js";

const NUL = Buffer.from([0]);

/** The object an entry's content is stored as: its sha256, plus "x" when executable (a link shares its mode). */
export function objectKey(entry: ManifestRecord): string {
  return entry.mode & 0o100 ? `${entry.sha256}x` : entry.sha256;
}

function kind(entry: ManifestRecord): string {
  return entry.link !== undefined ? "l" : entry.mode & 0o100 ? "x" : "f";
}

function record(entry: ManifestEntry, name = encodeName(entry.path)): Buffer {
  const head = Buffer.from(`${kind(entry)}${entry.sha256} `, "latin1");
  const parts = [head, name, NUL];
  if (entry.link !== undefined) parts.push(encodeName(entry.link), NUL);
  return Buffer.concat(parts);
}

// A name with no code unit from U+D800 up (no escaped byte, no surrogate pair, nothing in U+E000–U+FFFF) is
// its plain UTF-8, and comparing such names as JavaScript strings orders them as their bytes do.
const BEYOND_PLAIN = /[\ud800-\uffff]/;

/** The canonical manifest: records sorted by path bytes (the order codestore.py sorts in). */
export function manifestBytes(entries: readonly ManifestEntry[]): Buffer {
  const plain = entries.every((e) => !BEYOND_PLAIN.test(e.path) && (e.link === undefined || !BEYOND_PLAIN.test(e.link)));
  if (plain) {
    // One string, encoded once: 100,000 records in a fraction of the general path's time.
    const text = inPathOrder(entries).map((e) => `${kind(e)}${e.sha256} ${e.path}\0${e.link === undefined ? "" : `${e.link}\0`}`);
    return Buffer.from(text.join(""), "utf8");
  }
  // Each name is encoded once, not once per comparison.
  const named = entries.map((entry) => ({ entry, name: encodeName(entry.path) }));
  named.sort((a, b) => Buffer.compare(a.name, b.name));
  return Buffer.concat(named.map(({ entry, name }) => record(entry, name)));
}

/** The id of a manifest, which names its code tree. */
export function manifestId(entries: readonly ManifestEntry[]): string {
  return sha256(manifestBytes(entries));
}

/** Records to add or replace, then one removal record per deleted path. */
export function deltaBytes(changed: readonly ManifestEntry[], deleted: readonly string[]): Buffer {
  return Buffer.concat([...changed.map((e) => record(e)), ...deleted.map((p) => Buffer.concat([Buffer.from("d"), encodeName(p), NUL]))]);
}

function length(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

export interface Upload {
  /** Entries whose objects are sent (a key is sent once however many paths share it). */
  objects: ManifestEntry[];
  /** The manifest after the upload; entries of sent objects are re-hashed as read. */
  entries: ManifestEntry[];
  /** Send the whole manifest; else the delta: `changed` entries (objects is a subset) and `deleted` paths. */
  full: boolean;
  changed: readonly ManifestEntry[];
  deleted: readonly string[];
  /** manifestId(entries) as computed before the upload; recomputed only if a sent file changed meanwhile. */
  id: string;
}

function readLocal(root: string, path: string): Buffer {
  try {
    return readFileSync(encodeName(join(root, path)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw new InputError(`${displayName(path)} was deleted while the code was being sent; run again`);
  }
}

/** The frames of an upload. Sets `result.id` to the id of the manifest sent, once the stream is read. */
function* frames(root: string, upload: Upload, result: { id: string }): Generator<Buffer> {
  const sent = new Set<string>();
  let rehashed = false;
  for (const entry of upload.objects) {
    const data = readLocal(root, entry.path);
    // The file may have changed since it was hashed: what is sent is what the manifest records.
    const hash = sha256(data);
    rehashed ||= hash !== entry.sha256;
    entry.sha256 = hash;
    entry.size = data.length;
    const key = objectKey(entry);
    if (sent.has(key)) continue;
    sent.add(key);
    yield Buffer.concat([Buffer.from(entry.mode & 0o100 ? "Ox" : "O-"), Buffer.from(entry.sha256, "hex"), length(data.length)]);
    yield data;
  }
  // A re-hashed entry is one of `objects`, hence of `changed`: the delta holds it as sent.
  const body = upload.full ? manifestBytes(upload.entries) : deltaBytes(upload.changed, upload.deleted);
  // Hashing 100,000 records costs ~0.1 s: done again only when the entries changed since upload.id.
  result.id = upload.full ? sha256(body) : rehashed ? manifestId(upload.entries) : upload.id;
  yield Buffer.concat([Buffer.from(upload.full ? "M" : "D"), Buffer.from(result.id, "latin1"), length(body.length), body]);
  yield Buffer.from("E");
}

/**
 * What turns base into entries: the entries new or different, and the paths gone. One merge of the two
 * lists in path order (a manifest is kept sorted by byPath; a list that is not is sorted first), where maps
 * of 100,000 entries cost a few hundred ms.
 */
export function diffManifests(base: readonly ManifestRecord[], entries: readonly ManifestEntry[]): { changed: ManifestEntry[]; deleted: string[] } {
  const [b, e] = [inPathOrder(base), inPathOrder(entries)];
  const changed: ManifestEntry[] = [];
  const deleted: string[] = [];
  let i = 0;
  let j = 0;
  while (i < b.length || j < e.length) {
    const order = i === b.length ? 1 : j === e.length ? -1 : byPath(b[i]!, e[j]!);
    if (order < 0) deleted.push(b[i++]!.path);
    else if (order > 0) changed.push(e[j++]!);
    else {
      if (!sameRecord(e[j]!, b[i]!)) changed.push(e[j]!);
      i++;
      j++;
    }
  }
  return { changed, deleted };
}

function inPathOrder<T extends ManifestRecord>(list: readonly T[]): readonly T[] {
  for (let i = 1; i < list.length; i++) if (byPath(list[i - 1]!, list[i]!) >= 0) return [...list].sort(byPath);
  return list;
}

/** Whether two entries have the same manifest record (content, executable bit, kind). */
function sameRecord(a: ManifestRecord, b: ManifestRecord | undefined): boolean {
  return b !== undefined && a.sha256 === b.sha256 && kind(a) === kind(b) && a.link === b.link;
}

/**
 * Frames joined into chunks of about 256 KB. Each chunk written to gzip is one compression call through
 * the thread pool: 100,000 small files sent frame by frame took 7.6 s locally, most of it in those calls.
 */
function* batched(parts: Iterable<Buffer>, size = 1 << 18): Generator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for (const part of parts) {
    pending.push(part);
    length += part.length;
    if (length >= size) {
      yield Buffer.concat(pending, length);
      pending = [];
      length = 0;
    }
  }
  if (pending.length) yield Buffer.concat(pending, length);
}

/** The gzip stream of an upload, counting the compressed bytes (what travels). */
export function uploadStream(root: string, upload: Upload, result: { id: string; bytes: number }): Readable {
  const gzip = createGzip({ level: 6 });
  // Counted on the way through, not with a "data" listener: that would start the flow before the
  // command's stdin is attached, and the bytes would be lost.
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      result.bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const source = Readable.from(batched(frames(root, upload, result)), { objectMode: false });
  source.on("error", (error) => counted.destroy(error)); // a file that cannot be read fails the upload
  source.pipe(gzip).pipe(counted);
  return counted;
}

/** The code store's script: store_objects.py (shared with the runner), then codestore.py. */
export function storeScript(): string {
  return ["store_objects.py", "codestore.py"].map((name) => readFileSync(remoteFile(name), "utf8")).join("\n");
}

/** argv running codestore.py on the target (python: 3.6+; -I -S: no user site or site imports, a faster start). */
export function storeArgv(python: string, ...args: string[]): string[] {
  return [python, "-I", "-S", "-c", storeScript(), ...args];
}

/** argv of the apply command; its stdin is uploadStream(). */
export function applyArgv(python: string, baseDir: string, baseId: string | null): string[] {
  return storeArgv(python, "apply", baseDir, baseId ?? "-");
}

/** argv of the store's garbage collection. */
export function gcArgv(python: string, baseDir: string, minutes: number): string[] {
  return storeArgv(python, "gc", baseDir, String(minutes));
}

/** What an apply printed: done, the base manifest is gone, or objects to send again. */
export type ApplyOutcome = { kind: "ok" } | { kind: "nobase" } | { kind: "missing"; keys: string[] };

export function parseApply(stdout: string): ApplyOutcome | null {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  if (line === "ok" || line === "nobase") return { kind: line };
  if (line.startsWith("missing ")) return { kind: "missing", keys: line.slice(8).split(" ") };
  return null;
}

/** The tree of a manifest on the target. */
export function treeDir(baseDir: string, uid: string, id: string): string {
  return `${baseDir}/trees/${uid}/${id}`;
}
