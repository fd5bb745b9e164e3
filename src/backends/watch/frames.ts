// The watcher's wire format (src/remote/watcher.py): an ASCII header line "TYPE ID LENGTH\n", then exactly
// LENGTH bytes. A job's output only ever travels inside a payload, so no byte it prints can forge a frame.
import { Writable } from "node:stream";
import { RemoteCommandError } from "../../util/errors.js";

export interface Frame {
  type: string;
  id: string;
  payload: Buffer;
}

const HEADER = /^([a-z][a-z-]*) ([A-Za-z0-9_.-]+) (\d{1,12})$/;
/** A header is short; anything longer is not a watcher talking (a login banner, a broken stream). */
const MAX_HEADER = 200;
/** A login banner's line is short; one longer than this before "ready" is refused. */
const MAX_BANNER_LINE = 64 * 1024;
/** The watcher sends at most 256 KiB of a file per frame and a poll's output (16 MiB at most). */
const MAX_PAYLOAD = (1 << 24) + 1;

function malformed(detail: string): RemoteCommandError {
  return new RemoteCommandError("Watching jobs", "python (watcher.py)", 1, `malformed watcher output: ${detail}`);
}

/**
 * A Writable that cuts the watcher's stdout into frames and hands each one to `onFrame`. It keeps at most
 * one frame's bytes: a 200 MB log arrives as many small frames, each handed on and dropped. Lines before the
 * first frame ("ready") are skipped: a login shell may print a banner, and no job output comes before it.
 */
export class FrameReader extends Writable {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #header: { type: string; id: string; length: number } | null = null;
  #started = false;

  constructor(private readonly onFrame: (frame: Frame) => void) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    try {
      while (this.#next());
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  /** Takes the first n buffered bytes out (one copy only when they span chunks). */
  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let taken: Buffer;
    if (first.length >= n) {
      taken = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.#chunks, this.#buffered);
      taken = all.subarray(0, n);
      this.#chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.#buffered -= n;
    return taken;
  }

  /** Drops one line before the first frame, or starts at the first frame (whose header is a "ready" line). */
  #skipToReady(): boolean {
    const newline = this.#peek(MAX_BANNER_LINE + 1).indexOf(10);
    if (newline < 0) {
      // A banner line longer than this is no banner: kept whole, it would grow without end.
      if (this.#buffered > MAX_BANNER_LINE) throw malformed(`a line of over ${MAX_BANNER_LINE} bytes before the watcher started`);
      return false;
    }
    const line = this.#peek(newline).toString("latin1");
    if (/^ready - \d+$/.test(line)) this.#started = true;
    else this.#take(newline + 1);
    return true;
  }

  /** Up to the first n buffered bytes, without taking them. */
  #peek(n: number): Buffer {
    const parts: Buffer[] = [];
    let length = 0;
    for (const chunk of this.#chunks) {
      if (length >= n) break;
      parts.push(chunk);
      length += chunk.length;
    }
    return Buffer.concat(parts).subarray(0, n);
  }

  /** Parses one header or one payload; false when more bytes are needed. */
  #next(): boolean {
    if (!this.#started) return this.#skipToReady();
    if (this.#header === null) {
      const head = this.#peek(MAX_HEADER + 1);
      const newline = head.indexOf(10);
      if (newline < 0) {
        if (head.length > MAX_HEADER) throw malformed(JSON.stringify(head.toString("latin1").slice(0, 80)));
        return false;
      }
      const line = this.#take(newline + 1).toString("latin1").slice(0, -1);
      const match = HEADER.exec(line);
      if (!match || Number(match[3]) > MAX_PAYLOAD) throw malformed(JSON.stringify(line.slice(0, 80)));
      this.#header = { type: match[1]!, id: match[2]!, length: Number(match[3]) };
    }
    const header = this.#header;
    if (this.#buffered < header.length) return false;
    this.#header = null;
    this.onFrame({ type: header.type, id: header.id, payload: header.length === 0 ? Buffer.alloc(0) : this.#take(header.length) });
    return true;
  }
}
