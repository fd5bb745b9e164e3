// A minimal tar writer (GNU format: ustar headers, GNU long-name records for names over 100 bytes).
// Written here rather than piping the system tar because one stream must carry the changed files, the
// deletion list and the new manifest together, named with exact bytes (names.ts), and hashed as sent.
import { encodeName } from "./names.js";

const BLOCK = 512;

export type TarEntry =
  | { type: "file"; path: string; mode: number; mtimeMs: number; data: Buffer }
  | { type: "symlink"; path: string; target: string; mtimeMs: number };

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(name: Buffer, type: string, size: number, mode: number, mtimeMs: number, link: Buffer): Buffer {
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0, 0, Math.min(name.length, 100));
  h.write(octal(mode, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(Math.floor(mtimeMs / 1000), 12), 136, "ascii");
  h.write(type, 156, "ascii");
  link.copy(h, 157, 0, Math.min(link.length, 100));
  h.write("ustar  \0", 257, "ascii");
  h.fill(" ", 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return h;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** A GNU ././@LongLink record (type L for a name, K for a link target) when the bytes exceed 100. */
function* longName(bytes: Buffer, type: "L" | "K"): Generator<Buffer> {
  if (bytes.length <= 100) return;
  const data = Buffer.concat([bytes, Buffer.from([0])]);
  yield header(Buffer.from("././@LongLink"), type, data.length, 0o644, 0, Buffer.alloc(0));
  yield data;
  yield padding(data.length);
}

/** The blocks of one entry. */
export function* tarEntry(entry: TarEntry): Generator<Buffer> {
  const name = encodeName(entry.path);
  yield* longName(name, "L");
  if (entry.type === "symlink") {
    const target = encodeName(entry.target);
    yield* longName(target, "K");
    yield header(name, "2", 0, 0o777, entry.mtimeMs, target);
    return;
  }
  yield header(name, "0", entry.data.length, entry.mode, entry.mtimeMs, Buffer.alloc(0));
  yield entry.data;
  yield padding(entry.data.length);
}

/** The end-of-archive marker: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}
