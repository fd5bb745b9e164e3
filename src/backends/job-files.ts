// Reading a job's files (log, result, error) wherever the job dir is: on this machine for the local
// target, over the transport for remote ones. `status`, `logs`, `result` use this, so they work the same
// on every target.
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { Writable } from "node:stream";
import { readRemoteFile } from "../transport/files.js";
import type { Transport } from "../transport/types.js";
import { RemoteCommandError } from "../util/errors.js";

export interface JobFiles {
  /** A file's text, or null when it does not exist. */
  read(path: string): Promise<string | null>;
  /** The log from a byte offset: the complete UTF-8 text and the offset after it. */
  readFrom(path: string, offset: number): Promise<{ text: string; offset: number }>;
  /** A file's bytes, or null (for result.pkl). */
  readBytes(path: string): Promise<Buffer | null>;
  /** Many small files' text at once (null for a missing one), in ONE remote command: an array's outcomes. */
  readMany(paths: readonly string[]): Promise<(string | null)[]>;
}

/** Reads the log from `offset`, returns the new text and the new offset. Partial UTF-8 sequences wait for the next read. */
export function readLogFrom(path: string, offset: number): { text: string; offset: number } {
  if (!existsSync(path)) return { text: "", offset };
  const fd = openSync(path, "r");
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(1 << 16);
    let position = offset;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
      position += n;
    }
    const bytes = Buffer.concat(chunks);
    const complete = completeUtf8Length(bytes);
    return { text: bytes.subarray(0, complete).toString("utf8"), offset: offset + complete };
  } finally {
    closeSync(fd);
  }
}

export const localFiles: JobFiles = {
  async read(path) {
    return existsSync(path) ? readFileSync(path, "utf8") : null;
  },
  async readFrom(path, offset) {
    return readLogFrom(path, offset);
  },
  async readBytes(path) {
    return existsSync(path) ? readFileSync(path) : null;
  },
  async readMany(paths) {
    return paths.map((path) => (existsSync(path) ? readFileSync(path, "utf8") : null));
  },
};

/** Length of the longest prefix that does not end inside a multi-byte UTF-8 sequence. */
export function completeUtf8Length(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    if (byte >= 0xc0) {
      const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return need > back ? bytes.length - back : bytes.length;
    }
    return bytes.length;
  }
  return bytes.length;
}

// A log not written yet reads as empty; any other failure (another user's job: Permission denied) is an error.
const READ_FROM = `exec 3>&1
sr_err=$(LC_ALL=C tail -c +"$2" -- "$1" 2>&1 >&3) && exit 0
case "$sr_err" in *"No such file or directory"*) exit 0 ;; esac
printf '%s\\n' "$sr_err" >&2
exit 1`;

// Each file as its size in bytes on one line, then its bytes; "-" for a file that is not there.
const READ_MANY = `for p; do
  if [ -f "$p" ]; then wc -c <"$p" | tr -d ' '; cat -- "$p"; else echo -; fi
done`;

/** Splits READ_MANY's output into the files' texts. */
export function parseReadMany(bytes: Buffer, count: number): (string | null)[] {
  const texts: (string | null)[] = [];
  let at = 0;
  while (texts.length < count) {
    const newline = bytes.indexOf(10, at);
    if (newline < 0) throw new Error("the files' reply ended early");
    const head = bytes.subarray(at, newline).toString("latin1");
    at = newline + 1;
    if (head === "-") {
      texts.push(null);
      continue;
    }
    const size = Number(head);
    if (!/^\d+$/.test(head) || at + size > bytes.length) throw new Error(`the files' reply is garbled at byte ${at}`);
    texts.push(bytes.subarray(at, at + size).toString("utf8"));
    at += size;
  }
  return texts;
}

/** A stream that keeps what is written to it. */
function collector(): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

export function remoteFiles(transport: Transport): JobFiles {
  return {
    async read(path) {
      return (await readRemoteFile(transport, path))?.toString("utf8") ?? null;
    },
    async readFrom(path, offset) {
      const { sink, bytes: received } = collector();
      const result = await transport.exec(["sh", "-c", READ_FROM, "sh", path, String(offset + 1)], { stdout: sink });
      if (result.code !== 0) throw new RemoteCommandError(`Reading ${path}`, "tail -c +N", result.code, result.stderr);
      const bytes = received();
      const complete = completeUtf8Length(bytes);
      return { text: bytes.subarray(0, complete).toString("utf8"), offset: offset + complete };
    },
    readBytes(path) {
      return readRemoteFile(transport, path);
    },
    async readMany(paths) {
      if (paths.length === 0) return [];
      const { sink, bytes: received } = collector();
      const result = await transport.script(READ_MANY, paths, { stdout: sink });
      if (result.code !== 0) throw new RemoteCommandError(`Reading ${paths.length} job files`, "wc -c; cat", result.code, result.stderr);
      try {
        return parseReadMany(received(), paths.length);
      } catch (error) {
        throw new RemoteCommandError(`Reading ${paths.length} job files`, "wc -c; cat", 1, (error as Error).message);
      }
    },
  };
}
