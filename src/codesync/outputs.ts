// Bringing a job's outputs back: one command (codestore.py send) that is told what is already here, by
// (size, mtime), and sends only the other files, gzip-compressed. Every name that comes back is checked
// before anything is written: relative, no "." or ".." part, no NUL, and never through a symlink, so
// nothing can land outside the chosen dir.
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, utimesSync, writeSync } from "node:fs";
import { join, sep } from "node:path";
import { Writable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Transport } from "../transport/types.js";
import { InputError, JobFilesGoneError, RemoteCommandError } from "../util/errors.js";
import { decodeName, displayName, encodeName } from "./names.js";
import { storeArgv } from "./store.js";

export interface OutputsResult {
  dir: string;
  files: number;
  bytes: number;
}

/** Files a large output's progress is reported for, and how often. */
const PROGRESS_BYTES = 16 * 1024 * 1024;
/** codestore.py send's exit code when the job's folder holding the outputs is not there. */
const SEND_NO_JOB_FOLDER = 3;

/** The files under dir as "<size> <mtime_ns> <path>\0" records (what codestore.py send skips). */
function heldRecords(dir: string, rel = ""): Buffer[] {
  let names: Buffer[];
  try {
    names = readdirSync(encodeName(join(dir, rel)), { encoding: "buffer" });
  } catch {
    return [];
  }
  const records: Buffer[] = [];
  for (const raw of names) {
    const path = rel ? `${rel}/${decodeName(raw)}` : decodeName(raw);
    const st = lstatSync(encodeName(join(dir, path)), { bigint: true });
    if (st.isDirectory()) records.push(...heldRecords(dir, path));
    else if (st.isFile()) records.push(Buffer.concat([Buffer.from(`${st.size} ${st.mtimeNs} `), encodeName(path), Buffer.from([0])]));
  }
  return records;
}

/** Refuses a name that could lead outside dir. */
export function checkOutputName(name: string): void {
  const parts = name.split("/");
  if (name === "" || name.startsWith("/") || name.includes("\0") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new RemoteCommandError("Bringing the outputs back", "codestore.py send", 1, `refused the name ${JSON.stringify(displayName(name))}: it could lead outside the outputs dir`);
  }
}

/** Creates path's parent dirs under dir, refusing to go through anything but a real directory. */
function parentsUnder(dir: string, name: string): void {
  const parts = name.split("/").slice(0, -1);
  let at = dir;
  for (const part of parts) {
    at = join(at, part);
    const st = lstatSync(encodeName(at), { throwIfNoEntry: false });
    if (!st) {
      mkdirSync(encodeName(at), { mode: 0o700 });
      continue;
    }
    if (!st.isDirectory()) throw new InputError(`${at} is in the way of an output file (not a directory); move it and fetch again`);
  }
  const final = join(dir, name);
  if (lstatSync(encodeName(final), { throwIfNoEntry: false })?.isSymbolicLink()) {
    throw new InputError(`${final} is a symlink: an output is never written through one; remove it and fetch again`);
  }
}

const NAME_MAX_BYTES = 4096;

/** Parses the frames of a send stream, writing each file under dir as it arrives (temp name, then rename). */
class FrameWriter extends Writable {
  #pending: Buffer = Buffer.alloc(0);
  #file: { fd: number; temp: string; final: string; left: number; mtimeNs: bigint; size: number } | null = null;
  #ended = false;
  files = 0;
  bytes = 0;

  constructor(
    readonly dir: string,
    readonly onProgress?: (message: string) => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: string, callback: (error?: Error) => void): void {
    try {
      this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
      this.#drain();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  #drain(): void {
    for (;;) {
      if (this.#file) {
        const n = Math.min(this.#file.left, this.#pending.length);
        writeSync(this.#file.fd, this.#pending, 0, n);
        this.#pending = this.#pending.subarray(n);
        this.#file.left -= n;
        this.bytes += n;
        const done = this.#file.size - this.#file.left;
        if (this.#file.size >= PROGRESS_BYTES && n > 0 && done % PROGRESS_BYTES < n) {
          this.onProgress?.(`outputs: ${displayName(this.#file.final)} ${Math.floor((100 * done) / this.#file.size)}%`);
        }
        if (this.#file.left > 0) return;
        this.#finishFile();
        continue;
      }
      if (this.#pending.length < 1) return;
      if (this.#pending[0] === 0x45) {
        this.#ended = true; // "E"
        return;
      }
      if (this.#pending[0] !== 0x46 || this.#pending.length < 9) {
        if (this.#pending[0] !== 0x46) throw new RemoteCommandError("Bringing the outputs back", "codestore.py send", 1, "malformed stream");
        return;
      }
      const nameLength = Number(this.#pending.readBigUInt64BE(1));
      // A path is at most PATH_MAX bytes: a longer announced name would have every later byte kept waiting for it.
      if (nameLength > NAME_MAX_BYTES) throw new RemoteCommandError("Bringing the outputs back", "codestore.py send", 1, `malformed stream: a name of ${nameLength} bytes`);
      if (this.#pending.length < 9 + nameLength + 16) return;
      const name = decodeName(this.#pending.subarray(9, 9 + nameLength));
      const size = Number(this.#pending.readBigUInt64BE(9 + nameLength));
      const mtimeNs = this.#pending.readBigUInt64BE(17 + nameLength);
      this.#pending = this.#pending.subarray(25 + nameLength);
      checkOutputName(name);
      parentsUnder(this.dir, name);
      const final = join(this.dir, name);
      const temp = `${final}.slurmray-part`;
      this.#file = { fd: openSync(encodeName(temp), "w", 0o600), temp, final, left: size, mtimeNs, size };
    }
  }

  #finishFile(): void {
    const file = this.#file!;
    closeSync(file.fd);
    renameSync(encodeName(file.temp), encodeName(file.final));
    const seconds = Number(file.mtimeNs) / 1e9;
    utimesSync(encodeName(file.final), seconds, seconds);
    this.files += 1;
    this.#file = null;
  }

  override _final(callback: (error?: Error) => void): void {
    callback(this.#ended && !this.#file ? undefined : new RemoteCommandError("Bringing the outputs back", "codestore.py send", 1, "the stream ended early"));
  }
}

/**
 * Brings remoteDir's files into localDir, sending only those that differ by (size, mtime). Files are
 * written with the remote mtime, which is what makes the next fetch skip them. With `subdirs` (relative paths,
 * such as an array's "3/outputs"), only the files under those, in ONE command whatever their number.
 */
export async function fetchOutputs(
  transport: Transport,
  python: string,
  remoteDir: string,
  localDir: string,
  onProgress?: (message: string) => void,
  subdirs: readonly string[] = [],
): Promise<OutputsResult> {
  mkdirSync(localDir, { recursive: true, mode: 0o700 });
  const writer = new FrameWriter(localDir.endsWith(sep) ? localDir.slice(0, -1) : localDir, onProgress);
  const gunzip = createGunzip();
  gunzip.pipe(writer);
  const finished = new Promise<void>((resolve, reject) => {
    writer.on("finish", resolve).on("error", reject);
    gunzip.on("error", reject);
  });
  // A refused name or a local write error stops the remote command (else it would block on a full pipe). A
  // stream that ended early needs no stop: the remote side has closed it, and its exit code says why.
  const abort = new AbortController();
  let writeError: unknown;
  finished.catch((error: unknown) => {
    writeError = error;
    if ((error as NodeJS.ErrnoException).code !== "Z_BUF_ERROR") abort.abort();
  });
  for (const sub of subdirs) checkOutputName(sub);
  const stdin = Buffer.concat(subdirs.length ? subdirs.flatMap((sub) => heldRecords(localDir, sub)) : heldRecords(localDir));
  const result = await transport.exec(storeArgv(python, "send", remoteDir, ...subdirs), { stdin, stdout: gunzip, signal: abort.signal }).catch((error: unknown) => {
    throw writeError ?? error;
  });
  if (result.code === SEND_NO_JOB_FOLDER) throw new JobFilesGoneError(`the job's folder holding ${remoteDir} is not there`);
  if (result.code !== 0) throw new RemoteCommandError(`Bringing the outputs back from ${remoteDir}`, "codestore.py send", result.code, result.stderr);
  await finished;
  return { dir: localDir, files: writer.files, bytes: writer.bytes };
}
