// syncCode: make the target's code store hold a tree of exactly the selected project files, sending only
// objects it lacks, in at most two remote commands (the probe, unless the caller batched it, and one apply).
// Nothing is rewritten in place: each manifest has its own immutable tree, so a job pinned to one never
// sees a later sync, and concurrent syncs only ever add objects and trees (docs/architecture.md).
import { PassThrough, Writable } from "node:stream";
import type { Transport } from "../transport/types.js";
import { RemoteCommandError } from "../util/errors.js";
import { type StagedFile, stageFile, writeFileAtomic } from "../util/fs.js";
import { type SizeLimits, sizeWarnings } from "./limits.js";
import type { Manifest } from "./manifest.js";
import { type CodeProbe, probeCode } from "./remote.js";
import { type ScannedManifest, scanManifest } from "./scan.js";
import { idFile, lastCodeId, type SentState, sentState, stateFile, toColumns } from "./sent-state.js";
import { reachablePaths, type Selection, selectFiles } from "./select.js";
import { applyArgv, diffManifests, objectKey, parseApply, treeDir, type Upload, uploadStream } from "./store.js";

export interface SyncOptions {
  root: string;
  /** Absolute base_dir on the target: the store is under objects/<uid>, trees under trees/<uid>. */
  baseDir: string;
  /** The interpreter that runs codestore.py on the target ("python3" on remote targets). */
  python: string;
  /** Local cache dir (the project's .slurmray/cache). */
  cacheDir: string;
  /** Names this target's cache entries. */
  targetKey: string;
  files?: readonly string[];
  exclude?: readonly string[];
  limits?: Partial<SizeLimits>;
  dryRun?: boolean;
  /** The answer of a batched probe (codeProbeSnippet with lastCodeId); undefined: syncCode probes itself. */
  probe?: CodeProbe;
  /**
   * Return at the apply's answer, leaving what it goes on doing (the spare of the new tree, for the next
   * change: docs/architecture.md) in SyncResult.background for the caller to await before it ends.
   * Otherwise syncCode awaits it.
   */
  background?: boolean;
}

export interface SyncResult {
  files_uploaded: number;
  bytes_uploaded: number;
  files_deleted: number;
  seconds: number;
  warnings: string[];
  /** With dryRun: the paths that would be sent, then "delete <path>" for each removal, then "repair <tree>" when a job found that tree changed. */
  dryRunList?: string[];
  remote_commands: number;
  /** The selected paths (relative to root), for the import check. */
  selected: string[];
  /** The manifest's id and its tree on the target (what a job pins). */
  id: string;
  treeDir: string;
  /** The apply's work after its answer; already settled unless options.background. Never rejects. */
  background: Promise<void>;
}

/** What to send: objects not in the base's tree (when it still exists), and a delta against it. */
function planUpload(local: Manifest, id: string, base: SentState | null): Upload {
  const baseEntries = base?.entries ?? [];
  const { changed, deleted } = diffManifests(baseEntries, local);
  // The base's tree holds the objects of its files: only the keys of changed files are looked for there.
  const wanted = new Set(changed.filter((e) => e.link === undefined).map(objectKey));
  const held = new Set<string>();
  if (wanted.size) for (const e of baseEntries) if (e.link === undefined && wanted.has(objectKey(e))) held.add(objectKey(e));
  return {
    objects: changed.filter((e) => e.link === undefined && !held.has(objectKey(e))),
    entries: local,
    full: base === null,
    changed,
    deleted,
    id,
  };
}

/** A stdout sink that keeps what arrives and resolves `line` with the first line, while the command goes on. */
function firstLine(): { sink: Writable; line: Promise<string>; text: () => string } {
  const chunks: Buffer[] = [];
  let settle: ((line: string) => void) | undefined;
  const line = new Promise<string>((resolve) => (settle = resolve));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      if (settle && chunk.includes(0x0a)) {
        const text = Buffer.concat(chunks).toString("utf8");
        settle(text.slice(0, text.indexOf("\n")));
        settle = undefined;
      }
      done();
    },
  });
  return { sink, line, text: () => Buffer.concat(chunks).toString("utf8") };
}

/**
 * One apply command, started before its upload is known: its start on the target (ssh channel, python,
 * the script) overlaps building the manifest here. `send` feeds it one upload and reads its answer;
 * `cancel` ends it with no input, which it takes as nothing to do.
 */
function startApply(transport: Transport, options: SyncOptions, baseId: string | null) {
  const stdin = new PassThrough();
  // A local read error ends the remote command (it would wait for the rest of its stdin) and is the error.
  const abort = new AbortController();
  let failed: Error | undefined;
  const answer = firstLine();
  const finished = transport.exec(applyArgv(options.python, options.baseDir, baseId), { stdin, stdout: answer.sink, signal: abort.signal }).catch((error: unknown) => {
    throw failed ?? error;
  });
  finished.catch(() => {}); // awaited by send or cancel
  return {
    /** Sends the upload; `whileWaiting(id)` runs once it is all handed over, while the target works on it. */
    async send(upload: Upload, whileWaiting: (id: string) => void) {
      const sent = { id: "", bytes: 0 };
      const source = uploadStream(options.root, upload, sent).on("error", (error) => {
        failed = error;
        abort.abort();
      });
      const handedOver = new Promise<void>((resolve) => source.once("end", resolve));
      source.pipe(stdin);
      await Promise.race([handedOver, finished.catch(() => {})]);
      if (!failed) whileWaiting(sent.id);
      // "ok" comes once the tree is in place; the command then makes the spare, which nothing here waits for.
      const first = await Promise.race([answer.line, finished.then(() => null)]);
      if (failed) throw failed;
      if (first === "ok") {
        const rest = finished.then(
          () => {},
          () => {}, // the spare only saves the next change its full build
        );
        if (!options.background) await rest;
        return { outcome: { kind: "ok" } as const, background: rest, ...sent };
      }
      const result = await finished;
      const outcome = result.code === 0 ? parseApply(answer.text()) : null;
      if (!outcome) {
        const what = `Storing code under ${options.baseDir} on ${transport.description}`;
        throw new RemoteCommandError(what, `${options.python} -c <codestore.py> apply`, result.code, result.stderr || answer.text());
      }
      return { outcome, background: Promise.resolve(), ...sent };
    },
    async cancel() {
      stdin.end();
      await finished.catch(() => {});
    },
  };
}

/** Lets a command started just now reach its spawn before synchronous work holds the event loop. */
const oneTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function syncCode(transport: Transport, options: SyncOptions): Promise<SyncResult> {
  const started = performance.now();
  const commandsBefore = transport.commandCount;
  const lastId = lastCodeId(options.cacheDir, options.targetKey);
  // The probe's round trip overlaps the local selection and hashing.
  const probed = options.probe !== undefined ? Promise.resolve(options.probe) : probeCode(transport, options.baseDir, lastId);
  probed.catch(() => {}); // awaited below; a local failure first must not leave it unhandled
  await oneTurn();
  const selection = await selectFiles({ root: options.root, files: options.files, exclude: options.exclude, cacheDir: options.cacheDir });
  const scanned = scanManifest(options.root, selection, options.cacheDir);
  // When the files differ from the manifest last sent (by the stamp, else from what the last scan saw),
  // something is likely to go: the apply starts now. Its base is the cache's candidate; with the probe
  // saying that tree is gone, a whole manifest goes instead. A wrong guess costs one idle command.
  const likely = scanned.stamped !== null ? scanned.stamped !== lastId : !scanned.seenBefore;
  const early = !options.dryRun && likely ? startApply(transport, options, lastId) : null;
  if (early) await oneTurn();
  try {
    return await finishSync(transport, options, { started, commandsBefore, lastId, selection, scanned, probe: await probed, early });
  } catch (error) {
    await early?.cancel();
    throw error;
  }
}

interface Scanned {
  started: number;
  commandsBefore: number;
  lastId: string | null;
  selection: Selection;
  scanned: ScannedManifest;
  probe: CodeProbe;
  /** The apply started early, or null; cancelled here when nothing is to be sent. */
  early: ReturnType<typeof startApply> | null;
}

async function finishSync(transport: Transport, options: SyncOptions, s: Scanned): Promise<SyncResult> {
  const { selection, scanned, probe } = s;
  // The cache only names a candidate base; the probe says whether its tree is on disk.
  const baseId = s.lastId !== null && probe.present ? s.lastId : null;
  const finish = (fields: Partial<SyncResult>, finalId: string): SyncResult => ({
    files_uploaded: 0,
    bytes_uploaded: 0,
    files_deleted: 0,
    background: Promise.resolve(),
    // Read last: building the manifest may add a warning (a file left out for a password).
    warnings: [...selection.warnings, ...sizeWarnings(selection.files, options.limits)],
    ...fields,
    seconds: (performance.now() - s.started) / 1000,
    remote_commands: transport.commandCount - s.commandsBefore,
    selected: reachablePaths(selection),
    id: finalId,
    treeDir: treeDir(options.baseDir, probe.uid, finalId),
  });
  const unchanged = async (id: string) => {
    // The apply started early ends once it sees no upload (after reading its base): awaited like the spare.
    const ended = s.early?.cancel() ?? Promise.resolve();
    if (!options.background) await ended;
    return finish({ ...(options.dryRun ? { dryRunList: [] } : {}), background: ended }, id);
  };
  // After a scan that matched its stamp, the manifest is built only here, and its id computed afresh. A tainted
  // tree is not unchanged: the apply (an empty delta) repairs it.
  if (baseId !== null && baseId === scanned.stamped && !probe.tainted) return unchanged(baseId);
  const { entries: local, id } = scanned.manifest();
  if (baseId === id && !probe.tainted) return unchanged(baseId);

  const base = baseId === null ? null : sentState(options.cacheDir, options.targetKey, baseId);
  const plan = planUpload(local, id, base);
  if (options.dryRun) {
    const repair = probe.tainted && baseId === id ? [`repair ${treeDir(options.baseDir, probe.uid, id)}`] : [];
    return finish({ dryRunList: [...plan.objects.map((e) => e.path), ...plan.deleted.map((p) => `delete ${p}`), ...repair] }, id);
  }
  let upload: Upload = plan;
  let files = 0;
  let bytes = 0;
  // The sent state (9 MB of JSON at 100,000 files) is written while the target applies, and put in place
  // only once it answers ok. Its id is the one sent (a file changed since it was hashed is sent as it is now).
  let staged: (StagedFile & { id: string }) | undefined;
  const stage = (sentId: string): StagedFile => {
    if (staged?.id === sentId) return staged;
    staged?.discard();
    staged = { ...stageFile(stateFile(options.cacheDir, options.targetKey), JSON.stringify(toColumns(sentId, local))), id: sentId };
    return staged;
  };
  try {
    // A second attempt only when the target lost what the cache and probe vouched for (a base manifest or
    // objects removed between the probe and the apply): then the whole manifest and what is missing go.
    for (let attempt = 1; ; attempt++) {
      const apply = attempt === 1 && s.early ? s.early : startApply(transport, options, upload.full ? null : (base?.id ?? null));
      const applied = await apply.send(upload, stage);
      files += upload.objects.length;
      bytes += applied.bytes;
      if (applied.outcome.kind === "ok") {
        stage(applied.id).commit();
        staged = undefined;
        writeFileAtomic(idFile(options.cacheDir, options.targetKey), applied.id);
        return finish({ files_uploaded: files, bytes_uploaded: bytes, files_deleted: plan.deleted.length, background: applied.background }, applied.id);
      }
      if (attempt === 3) {
        throw new RemoteCommandError(`Storing code under ${options.baseDir} on ${transport.description}`, "codestore.py apply", 1, `still ${applied.outcome.kind} after ${attempt} attempts`);
      }
      const keys = applied.outcome.kind === "missing" ? new Set(applied.outcome.keys) : null;
      upload = { ...plan, full: true, objects: keys ? local.filter((e) => e.link === undefined && keys.has(objectKey(e))) : plan.objects };
    }
  } finally {
    staged?.discard();
  }
}
