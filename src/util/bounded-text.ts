// What a command prints on stderr, kept for its error report. A command that prints without end (a
// hostile or broken remote, an `rm -rf` complaining about every file) must not take the memory, nor pass
// the longest string V8 can hold (~512 MB, a RangeError): its start and its end are kept, and what lies
// between is named by its size.
import type { Readable } from "node:stream";

export const HEAD_BYTES = 64 * 1024;
export const TAIL_BYTES = 1024 * 1024;

export class BoundedText {
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #dropped = 0;

  add(chunk: Buffer): void {
    if (this.#headBytes < HEAD_BYTES) {
      const taken = chunk.subarray(0, HEAD_BYTES - this.#headBytes);
      this.#head.push(taken);
      this.#headBytes += taken.length;
      chunk = chunk.subarray(taken.length);
    }
    if (!chunk.length) return;
    this.#tail.push(chunk);
    this.#tailBytes += chunk.length;
    while (this.#tailBytes > TAIL_BYTES) {
      const first = this.#tail[0]!;
      const over = Math.min(first.length, this.#tailBytes - TAIL_BYTES);
      if (over === first.length) this.#tail.shift();
      else this.#tail[0] = first.subarray(over);
      this.#tailBytes -= over;
      this.#dropped += over;
    }
  }

  text(): string {
    if (!this.#dropped) return Buffer.concat([...this.#head, ...this.#tail]).toString("utf8");
    const [head, tail] = [Buffer.concat(this.#head).toString("utf8"), Buffer.concat(this.#tail).toString("utf8")];
    return `${head}\n[… ${this.#dropped} bytes of output left out …]\n${tail}`;
  }
}

/** Collects a stream's text, bounded; the getter gives what was kept so far. */
export function collectBounded(stream: Readable): () => string {
  const kept = new BoundedText();
  stream.on("data", (chunk: Buffer) => kept.add(chunk));
  return () => kept.text();
}
