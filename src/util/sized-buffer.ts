// A file's bytes, arriving in chunks after the target announced their number: filled into one buffer of
// that size, so a 100 MB result costs 100 MB, not its chunks and then their join. The announcement is the
// remote's word, not a fact: a size that is not one counts as 0, at most PREALLOCATED_MAX is set aside up
// front (an announced terabyte must not be allocated, nor crash the CLI), and bytes beyond the buffer are
// kept as they come.
import { constants } from "node:buffer";

export const PREALLOCATED_MAX = 256 * 1024 * 1024;

/** The announced size as a number of bytes: a plain non-negative integer, else 0. */
export function announcedSize(text: string): number {
  const size = /^\s*\d{1,16}\s*$/.test(text) ? Number(text) : 0;
  return Math.min(size, constants.MAX_LENGTH);
}

export class SizedBuffer {
  readonly #bytes: Buffer;
  #filled = 0;
  readonly #beyond: Buffer[] = [];

  constructor(announced: number) {
    this.#bytes = Buffer.allocUnsafe(Math.min(announced, PREALLOCATED_MAX));
  }

  add(chunk: Buffer): void {
    const copied = chunk.copy(this.#bytes, this.#filled);
    this.#filled += copied;
    if (copied < chunk.length) this.#beyond.push(chunk.subarray(copied));
  }

  /** Every byte that came, in order. */
  bytes(): Buffer {
    const filled = this.#bytes.subarray(0, this.#filled);
    return this.#beyond.length === 0 ? filled : Buffer.concat([filled, ...this.#beyond]);
  }
}
