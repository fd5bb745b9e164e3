// A JSON value kept as its UTF-8 text and never parsed, so that printing a 100 MB result costs its bytes once.
// It is printed in JSON.stringify(value, null, 2)'s layout by re-indenting the text in small pieces: strings and
// numbers are copied as written (Python's json.dumps(ensure_ascii=False) escapes exactly what JSON.stringify
// escapes; its numbers keep their text, so 1.0 stays 1.0 and a large int keeps every digit), and object members
// keep their order.
import { randomUUID } from "node:crypto";

/** Bytes handed to `write` at a time; a string longer than this goes out as one slice of the text, uncopied. */
const PIECE = 1 << 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** The one-letter escapes JSON allows after a backslash: " \ / b f n r t (u is handled apart). */
const SHORT_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const LITERALS = ["true", "false", "null"].map((word) => Buffer.from(word));
const MEMBER_SEPARATOR = Buffer.from(": ");

const isDigit = (c: number | undefined) => c !== undefined && c >= DIGIT_0 && c <= DIGIT_9;
const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isHex = (c: number | undefined) => c !== undefined && (isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));

/** Collects small pieces into PIECE-sized buffers before handing them on; long slices go on as they are. */
class Output {
  #buffer = Buffer.allocUnsafe(PIECE);
  #length = 0;
  /** A newline and the spaces of the deepest indentation so far: each line is a slice of it. */
  #line = Buffer.from("\n");

  constructor(private readonly write: (chunk: Buffer) => void) {}

  put(source: Buffer, start = 0, end = source.length): void {
    const size = end - start;
    if (this.#length + size > PIECE) this.flush();
    if (size >= PIECE / 4) this.write(source.subarray(start, end));
    else if (size > 16) this.#length += source.copy(this.#buffer, this.#length, start, end);
    else for (let i = start; i < end; i++) this.#buffer[this.#length++] = source[i]!; // cheaper than copy() for a token
  }

  /** A newline and the indentation of `depth` levels (two spaces each). */
  newline(depth: number): void {
    const length = 1 + 2 * depth;
    if (this.#line.length < length) this.#line = Buffer.from(`\n${" ".repeat(2 * length)}`);
    this.put(this.#line, 0, length);
  }

  /** Hands on what is collected; the buffer goes with it (the writer may keep it), a new one takes its place. */
  flush(): void {
    if (this.#length === 0) return;
    this.write(this.#buffer.subarray(0, this.#length));
    this.#buffer = Buffer.allocUnsafe(PIECE);
    this.#length = 0;
  }
}

/** The end of the string starting at `start` (a quote), or -1 when it is not a valid JSON string. */
function stringEnd(text: Buffer, start: number): number {
  let i = start + 1;
  for (;;) {
    const c = text[i];
    if (c === undefined || c < 0x20) return -1;
    if (c === QUOTE) return i + 1;
    if (c !== BACKSLASH) i++;
    else if (SHORT_ESCAPES.has(text[i + 1]!)) i += 2;
    else if (text[i + 1] === 0x75 && isHex(text[i + 2]) && isHex(text[i + 3]) && isHex(text[i + 4]) && isHex(text[i + 5])) i += 6;
    else return -1;
  }
}

/** The end of the number starting at `start` (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?), or -1. */
function numberEnd(text: Buffer, start: number): number {
  let i = start;
  if (text[i] === MINUS) i++;
  if (text[i] === DIGIT_0) i++;
  else if (isDigit(text[i])) while (isDigit(text[i])) i++;
  else return -1;
  if (text[i] === 0x2e) {
    if (!isDigit(text[++i])) return -1;
    while (isDigit(text[i])) i++;
  }
  if (text[i] === 0x65 || text[i] === 0x45) {
    i++;
    if (text[i] === 0x2b || text[i] === MINUS) i++;
    if (!isDigit(text[i])) return -1;
    while (isDigit(text[i])) i++;
  }
  return i;
}

/** The end of the string, number or literal starting at `start`, or -1. */
function scalarEnd(text: Buffer, start: number): number {
  const c = text[start];
  if (c === QUOTE) return stringEnd(text, start);
  if (c === MINUS || isDigit(c)) return numberEnd(text, start);
  const word = LITERALS.find((literal) => literal[0] === c);
  return word && text.subarray(start, start + word.length).equals(word) ? start + word.length : -1;
}

/**
 * Walks `text` as exactly one JSON value (whitespace around it allowed) and says whether it is one. With an
 * output, it also writes the value in JSON.stringify(value, null, 2)'s layout, nested lines `base` levels deeper.
 * One loop and a stack of open containers: nesting costs no recursion.
 */
function walk(text: Buffer, output: Output | null, base: number): boolean {
  const open: number[] = [];
  /** What comes next: a value, an object's key, the colon after it, or a comma or close after a value. */
  let expect: "value" | "key" | "colon" | "next" = "value";
  let justOpened = false;
  let i = 0;
  for (;;) {
    while (isSpace(text[i])) i++;
    const c = text[i];
    if (c === undefined) return expect === "next" && open.length === 0;
    if (expect === "colon") {
      if (c !== COLON) return false;
      output?.put(MEMBER_SEPARATOR);
      expect = "value";
      i++;
      continue;
    }
    if (expect === "next" || justOpened) {
      const close = open.at(-1) === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
      if (open.length > 0 && c === close) {
        open.pop();
        if (!justOpened) output?.newline(base + open.length);
        output?.put(text, i, i + 1);
        expect = "next";
        justOpened = false;
        i++;
        continue;
      }
      if (justOpened) output?.newline(base + open.length);
      else if (c === COMMA && open.length > 0) {
        output?.put(text, i, i + 1);
        output?.newline(base + open.length);
        expect = open.at(-1) === OPEN_OBJECT ? "key" : "value";
        i++;
        continue;
      } else return false;
      justOpened = false;
    }
    if (expect === "key") {
      const end = c === QUOTE ? stringEnd(text, i) : -1;
      if (end < 0) return false;
      output?.put(text, i, end);
      expect = "colon";
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      output?.put(text, i, i + 1);
      open.push(c);
      justOpened = true;
      expect = c === OPEN_OBJECT ? "key" : "value";
      i++;
    } else {
      const end = scalarEnd(text, i);
      if (end < 0) return false;
      output?.put(text, i, end);
      expect = "next";
      i = end;
    }
  }
}

export class JsonText {
  private constructor(readonly bytes: Buffer) {}

  /** The bytes when they hold exactly one JSON value (UTF-8 is not checked), else null. They are kept, not copied. */
  static from(bytes: Buffer): JsonText | null {
    return walk(bytes, null, 0) ? new JsonText(bytes) : null;
  }

  /** A value's JSON text (a value that JSON cannot hold is null, as JSON.stringify makes it). */
  static of(value: unknown): JsonText {
    return new JsonText(Buffer.from(JSON.stringify(value) ?? "null"));
  }

  /**
   * The value itself, as JSON.parse makes it (at its cost), but for an integer past 2**53, which a number
   * would round without a word: that one is a bigint with every digit.
   */
  parse(): unknown {
    const text = this.bytes.toString("utf8");
    return LONG_INTEGER.test(text) ? parseExact(this.bytes) : JSON.parse(text);
  }

  /** Writes the value as JSON.stringify(value, null, 2) lays it out, its nested lines `depth` levels deeper. */
  print(write: (chunk: Buffer) => void, depth = 0): void {
    const output = new Output(write);
    walk(this.bytes, output, depth);
    output.flush();
  }
}

/** 16 digits or more in a row, inside a string or not: the text may hold an integer a number cannot. */
const LONG_INTEGER = /\d{16}/;

/**
 * JSON.parse's value with every integer that is not a safe number as a bigint. The bytes are a valid JSON value
 * (JsonText.from checked it). One loop and a stack of open containers, like walk: nesting costs no recursion.
 */
function parseExact(bytes: Buffer): unknown {
  type Open = { container: Record<string, unknown> | unknown[]; key: string | null };
  const open: Open[] = [];
  let root: unknown;
  const place = (value: unknown): void => {
    const top = open.at(-1);
    if (!top) root = value;
    else if (Array.isArray(top.container)) top.container.push(value);
    else {
      Object.defineProperty(top.container, top.key!, { value, enumerable: true, writable: true, configurable: true }); // "__proto__" too
      top.key = null;
    }
  };
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (isSpace(c) || c === COMMA || c === COLON) {
      i++;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const container = c === OPEN_OBJECT ? {} : [];
      place(container);
      open.push({ container, key: null });
      i++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop();
      i++;
    } else {
      const end = scalarEnd(bytes, i);
      const token = bytes.toString("utf8", i, end);
      const top = open.at(-1);
      if (c === QUOTE && top && !Array.isArray(top.container) && top.key === null) top.key = JSON.parse(token) as string;
      else place(c !== QUOTE && /^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token)) ? BigInt(token) : JSON.parse(token));
      i = end;
    }
  }
  return root;
}

/**
 * Writes `value` as JSON.stringify(value, null, 2) would, with each JsonText inside it printed from its text.
 * Each one stands in the stringified rest as a marker string no other string can equal, found again after.
 */
export function writeJson(value: unknown, write: (chunk: Buffer | string) => void): void {
  if (value instanceof JsonText) {
    value.print(write);
    return;
  }
  const texts: JsonText[] = [];
  const marker = `\u0000json-text-${randomUUID()}-`;
  const json = String(JSON.stringify(value, (_key, item: unknown) => (item instanceof JsonText ? `${marker}${texts.push(item) - 1}` : item), 2));
  const found = new RegExp(`${JSON.stringify(marker).slice(0, -1).replaceAll("\\", "\\\\")}(\\d+)"`, "g");
  let written = 0;
  for (const match of json.matchAll(found)) {
    write(json.slice(written, match.index));
    const lineStart = json.lastIndexOf("\n", match.index) + 1;
    const indent = json.slice(lineStart).search(/[^ ]/);
    texts[Number(match[1])]!.print(write, indent / 2);
    written = match.index + match[0].length;
  }
  write(json.slice(written));
}
