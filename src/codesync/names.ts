// File names are bytes; JavaScript strings are UTF-16. Node decodes names as UTF-8 and silently turns
// invalid bytes into U+FFFD, so a file named with Latin-1 bytes could not be read back. We decode the way
// Python's "surrogateescape" does: valid UTF-8 as usual, each invalid byte b as the lone surrogate
// U+DC00+b, which round-trips exactly, survives JSON, and leaves every valid name untouched.

const ESCAPE_BASE = 0xdc00;

/** Length of the valid UTF-8 sequence starting at buf[i], or 0 when buf[i] does not start one. */
function sequenceLength(buf: Uint8Array, i: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  const [n, min] = b >= 0xc2 && b <= 0xdf ? [2, 0x80] : b >= 0xe0 && b <= 0xef ? [3, 0x800] : b >= 0xf0 && b <= 0xf4 ? [4, 0x10000] : [0, 0];
  if (n === 0 || i + n > buf.length) return 0;
  let cp = b & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const c = buf[i + k]!;
    if ((c & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  const surrogate = cp >= 0xd800 && cp <= 0xdfff;
  return cp < min || cp > 0x10ffff || surrogate ? 0 : n;
}

/** Decodes a file name's bytes; lossless (see encodeName). */
export function decodeName(buf: Uint8Array): string {
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString("utf8");
  if (!text.includes("\uFFFD")) return text;
  let out = "";
  for (let i = 0; i < buf.length; ) {
    const n = sequenceLength(buf, i);
    if (n === 0) {
      out += String.fromCharCode(ESCAPE_BASE + buf[i]!);
      i++;
    } else {
      out += Buffer.from(buf.subarray(i, i + n)).toString("utf8");
      i += n;
    }
  }
  return out;
}

const ESCAPED = /[\udc80-\udcff]/;

/** The exact bytes of a name produced by decodeName. */
export function encodeName(name: string): Buffer {
  if (!ESCAPED.test(name)) return Buffer.from(name, "utf8");
  const parts: Buffer[] = [];
  let run = "";
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code >= 0xdc80 && code <= 0xdcff) {
      parts.push(Buffer.from(run, "utf8"), Buffer.from([code - ESCAPE_BASE]));
      run = "";
    } else {
      run += ch;
    }
  }
  parts.push(Buffer.from(run, "utf8"));
  return Buffer.concat(parts);
}

/** A name for messages: escaped bytes shown as \xNN, control characters as JSON escapes. */
export function displayName(name: string): string {
  return JSON.stringify(name)
    .slice(1, -1)
    .replace(/\\udc([89a-f][0-9a-f])/g, "\\x$1");
}

/** A name as node:fs takes it: the string itself unless it holds an escaped byte (a Buffer costs more). */
export function nativeName(name: string): string | Buffer {
  return ESCAPED.test(name) ? encodeName(name) : name;
}
