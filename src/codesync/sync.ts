// syncCode: make the remote code dir hold exactly the selected project files, sending only what changed,
// in at most two remote commands (the stamp probe, unless the caller batched it, and one apply command).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { readRemoteFile } from "../transport/files.js";
import type { Transport } from "../transport/types.js";
import { RemoteCommandError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs.js";
import { fail, isObject, readCache } from "../util/json-file.js";
import { deltaLine, fullLine, replayJournal } from "./journal.js";
import { type SizeLimits, sizeWarnings } from "./limits.js";
import { checkManifestEntries, localManifest, type Manifest, type ManifestEntry, manifestHash, sameEntry, sha256 } from "./manifest.js";
import { encodeName } from "./names.js";
import { applyCommand, MANIFEST_FILE, probeCodeStamp, SYNC, TREE } from "./remote.js";
import { selectFiles } from "./select.js";
import { tarEnd, tarEntry } from "./tar.js";

export interface SyncOptions {
  root: string;
  /** Absolute remote path of the code dir. */
  codeDir: string;
  /** Local cache dir (the project's .slurmray/cache). */
  cacheDir: string;
  /** Names this target's cache entries (one remote code dir per target). */
  targetKey: string;
  files?: readonly string[];
  exclude?: readonly string[];
  limits?: Partial<SizeLimits>;
  dryRun?: boolean;
  /** The stamp from a batched probe (parseCodeProbe); undefined: syncCode probes itself. */
  remoteStamp?: string | null;
}

export interface SyncResult {
  files_uploaded: number;
  bytes_uploaded: number;
  files_deleted: number;
  seconds: number;
  warnings: string[];
  /** With dryRun: the paths that would be sent, then "delete <path>" for each removal. */
  dryRunList?: string[];
  remote_commands: number;
  /** The selected paths (relative to root), for the import check. */
  selected: string[];
}

/** What the code dir holds, and the size of its manifest journal (full line, and in all). */
interface RemoteState {
  entries: Manifest;
  baseBytes: number;
  journalBytes: number;
}

function stateFile(options: SyncOptions): string {
  return join(options.cacheDir, options.targetKey, "code-manifest.json");
}

function checkState(value: unknown): RemoteState {
  if (!isObject(value) || typeof value.baseBytes !== "number" || typeof value.journalBytes !== "number") return fail("expected {entries, baseBytes, journalBytes}");
  return { entries: checkManifestEntries(value.entries), baseBytes: value.baseBytes, journalBytes: value.journalBytes };
}

function readCachedState(options: SyncOptions): RemoteState | null {
  return readCache(stateFile(options), checkState);
}

/**
 * What the code dir holds: the cached state when the stamp vouches for it, else the remote journal when
 * its manifest's hash matches the stamp, else null (no trustworthy state: resend everything).
 */
async function remoteState(transport: Transport, options: SyncOptions, stamp: string | null): Promise<RemoteState | null> {
  if (stamp === null) return null;
  const cached = readCachedState(options);
  if (cached && manifestHash(cached.entries) === stamp) return cached;
  const journal = (await readRemoteFile(transport, `${options.codeDir}/${MANIFEST_FILE}`))?.toString("utf8") ?? "";
  const entries = replayJournal(journal);
  if (!entries || manifestHash(entries) !== stamp) return null;
  return { entries, baseBytes: Buffer.byteLength(journal.slice(0, journal.indexOf("\n") + 1)), journalBytes: Buffer.byteLength(journal) };
}

interface Plan {
  changed: ManifestEntry[];
  deleted: string[];
  /** Resend everything and clear the code dir of anything else (no trustworthy remote state). */
  full: boolean;
  /** Rewrite the journal as one full line (else append a delta line). */
  compact: boolean;
}

/** The tar blocks of a sync. Reading a changed file also re-hashes it: the manifest records what was sent. */
function* syncTar(root: string, plan: Plan, manifest: Manifest, journal: { line: string }): Generator<Buffer> {
  const now = Date.now();
  for (const entry of plan.changed) {
    const path = `${TREE}/${entry.path}`;
    if (entry.link !== undefined) {
      yield* tarEntry({ type: "symlink", path, target: entry.link, mtimeMs: entry.mtimeMs });
      continue;
    }
    const data = readFileSync(encodeName(join(root, entry.path)));
    entry.sha256 = sha256(data);
    entry.size = data.length;
    yield* tarEntry({ type: "file", path, mode: entry.mode, mtimeMs: entry.mtimeMs, data });
  }
  const meta = (name: string, data: string | Buffer) =>
    tarEntry({ type: "file", path: `${SYNC}/${name}`, mode: 0o600, mtimeMs: now, data: Buffer.from(data) });
  if (plan.full) yield* meta("full", "");
  yield* meta("delete", Buffer.concat(plan.deleted.map((p) => Buffer.concat([encodeName(p), Buffer.from([0])]))));
  journal.line = plan.compact ? fullLine(manifest) : deltaLine(plan.changed, plan.deleted);
  yield* meta(plan.compact ? "manifest-full" : "manifest-delta", journal.line);
  yield* meta("stamp", manifestHash(manifest));
  yield tarEnd();
}

const CHUNK = 256 * 1024;

/** Joins small blocks into large chunks: one pipe write per 256 KiB, not three per file. */
function* batched(blocks: Iterable<Buffer>, count: (n: number) => void): Generator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for (const block of blocks) {
    pending.push(block);
    size += block.length;
    if (size >= CHUNK) {
      count(size);
      yield Buffer.concat(pending, size);
      pending = [];
      size = 0;
    }
  }
  count(size);
  yield Buffer.concat(pending, size);
}

function planSync(local: Manifest, remote: RemoteState | null): Plan {
  const remoteByPath = new Map((remote?.entries ?? []).map((e) => [e.path, e]));
  const changed = local.filter((e) => !sameEntry(e, remoteByPath.get(e.path)));
  const localPaths = new Set(local.map((e) => e.path));
  const deleted = (remote?.entries ?? []).map((e) => e.path).filter((p) => !localPaths.has(p));
  // The journal stays under about twice a full manifest; an estimate of the delta's size is enough here.
  const compact = !remote || remote.journalBytes + (changed.length + deleted.length) * 200 > 2 * remote.baseBytes;
  return { changed, deleted, full: !remote, compact };
}

export async function syncCode(transport: Transport, options: SyncOptions): Promise<SyncResult> {
  const started = performance.now();
  const commandsBefore = transport.commandCount;
  // The probe's round trip overlaps the local selection and hashing.
  const stampProbe =
    options.remoteStamp !== undefined ? Promise.resolve(options.remoteStamp) : probeCodeStamp(transport, options.codeDir);
  stampProbe.catch(() => {}); // awaited below; a local failure first must not leave it unhandled
  // The probe's command starts a few promise steps later, and the local work below blocks the event loop:
  // one turn of the loop first lets it start, so that the remote side runs meanwhile.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const selection = await selectFiles({ root: options.root, files: options.files, exclude: options.exclude, cacheDir: options.cacheDir });
  const local = localManifest(options.root, selection, options.cacheDir);
  const warnings = [...selection.warnings, ...sizeWarnings(selection.files, options.limits)];
  const finish = (fields: Partial<SyncResult>): SyncResult => ({
    files_uploaded: 0,
    bytes_uploaded: 0,
    files_deleted: 0,
    warnings,
    ...fields,
    seconds: (performance.now() - started) / 1000,
    remote_commands: transport.commandCount - commandsBefore,
    selected: selection.files.map((file) => file.path),
  });

  const stamp = await stampProbe;
  if (stamp !== null && manifestHash(local) === stamp) {
    // The code dir already holds exactly this manifest: no need to even read the cached state.
    return finish(options.dryRun ? { dryRunList: [] } : {});
  }
  const remote = await remoteState(transport, options, stamp);
  const plan = planSync(local, remote);
  if (options.dryRun) {
    return finish({ dryRunList: [...plan.changed.map((e) => e.path), ...plan.deleted.map((p) => `delete ${p}`)] });
  }

  let bytes = 0;
  const journal = { line: "" };
  const tar = Readable.from(
    batched(syncTar(options.root, plan, local, journal), (n) => (bytes += n)),
    { objectMode: false },
  );
  const result = await transport.exec(applyCommand(options.codeDir), { stdin: tar });
  if (result.code !== 0) {
    const what = `Syncing code to ${options.codeDir} on ${transport.description}`;
    throw new RemoteCommandError(what, "sh -c <apply>", result.code, result.stderr);
  }
  const lineBytes = Buffer.byteLength(journal.line);
  const state: RemoteState = plan.compact
    ? { entries: local, baseBytes: lineBytes, journalBytes: lineBytes }
    : { entries: local, baseBytes: remote!.baseBytes, journalBytes: remote!.journalBytes + lineBytes };
  writeFileAtomic(stateFile(options), JSON.stringify(state));
  return finish({ files_uploaded: plan.changed.length, bytes_uploaded: bytes, files_deleted: plan.deleted.length });
}
