// The result printer: JSON text re-indented piece by piece must print what JSON.stringify(JSON.parse(text), null, 2)
// prints, accept exactly what JSON.parse accepts, and keep Python's number text and member order.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { JsonText, writeJson } from "../../../src/util/json-text.js";

/** A deterministic generator (mulberry32), so a failure can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = ["a", "Z", " ", '"', "\\", "/", "\n", "\r", "\t", "\b", "\f", "\u0000", "\u001f", "\u007f", "é", "€", "😀", "\u2028", "中", "{", "]", ":", ","];

/** Numbers whose text JSON.stringify and Python's json.dumps both write alike (not 1.5e-7, "1.5e-07" in Python). */
const NUMBERS = [0, -1, 42, 0.5, -3.25, 1e21, 1.5e-3, 123456.789, Number.MAX_SAFE_INTEGER];

function generate(next: () => number, depth: number, numbers = [...NUMBERS, 1.5e-7]): unknown {
  const pick = Math.floor(next() * (depth > 4 ? 5 : 8));
  const text = () => Array.from({ length: Math.floor(next() * 12) }, () => CHARS[Math.floor(next() * CHARS.length)]).join("");
  switch (pick) {
    case 0:
      return text();
    case 1:
      return numbers[Math.floor(next() * numbers.length)];
    case 2:
      return [true, false, null][Math.floor(next() * 3)];
    case 3:
      return Math.floor(next() * 1e6) - 5e5;
    case 4:
      return next() < 0.5 ? [] : {};
    case 5:
    case 6:
      return Array.from({ length: Math.floor(next() * 5) }, () => generate(next, depth + 1, numbers));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, () => [text(), generate(next, depth + 1, numbers)]));
  }
}

function printed(text: string | Buffer, depth = 0): string {
  const json = JsonText.from(Buffer.from(text));
  assert.ok(json, `valid JSON: ${String(text).slice(0, 200)}`);
  const chunks: Buffer[] = [];
  json.print((chunk) => chunks.push(Buffer.from(chunk)), depth);
  return Buffer.concat(chunks).toString("utf8");
}

const expected = (text: string) => JSON.stringify(JSON.parse(text), null, 2);

test("generated values, compact or spaced as json.dumps spaces them, print as JSON.stringify(value, null, 2)", () => {
  const next = random(7);
  for (let i = 0; i < 2000; i++) {
    const value = generate(next, 0);
    const compact = JSON.stringify(value);
    assert.equal(printed(compact), expected(compact));
    const spaced = JSON.stringify(value, null, 1 + (i % 3)).replaceAll("\n", " \r\n\t");
    assert.equal(printed(` ${spaced} `), expected(compact));
  }
});

test("what Python's json.dumps(ensure_ascii=False) writes (the runner's result.json) prints as JSON.stringify does", () => {
  const next = random(11);
  const values = Array.from({ length: 500 }, () => generate(next, 0, NUMBERS));
  const python = spawnSync("python3", ["-c", "import json,sys\nfor line in sys.stdin: print(json.dumps(json.loads(line), ensure_ascii=False))"], {
    input: values.map((value) => JSON.stringify(value)).join("\n"),
    encoding: "utf8",
  });
  assert.equal(python.status, 0, python.stderr);
  const lines = python.stdout.trimEnd().split("\n");
  assert.equal(lines.length, values.length);
  for (const [i, line] of lines.entries()) assert.equal(printed(line), JSON.stringify(values[i], null, 2), line);
});

test("long strings and long arrays cross the pieces handed to write; each piece is small or one string", () => {
  const value = { long: "x".repeat(300_000), many: Array.from({ length: 50_000 }, (_, i) => i), after: ["é".repeat(70_000)] };
  const text = JSON.stringify(value);
  const json = JsonText.from(Buffer.from(text))!;
  const sizes: number[] = [];
  const chunks: Buffer[] = [];
  json.print((chunk) => {
    sizes.push(chunk.length);
    chunks.push(Buffer.from(chunk));
  });
  assert.equal(Buffer.concat(chunks).toString("utf8"), expected(text));
  assert.ok(sizes.filter((size) => size > 1 << 16).length <= 2, `pieces: ${sizes.filter((size) => size > 1 << 16)}`);
});

test("deep nesting costs no recursion", () => {
  const text = `${"[".repeat(3000)}1${"]".repeat(3000)}`;
  assert.equal(printed(text), expected(text));
  assert.equal(printed(`${"{\"a\":".repeat(2000)}{}${"}".repeat(2000)}`), expected(`${"{\"a\":".repeat(2000)}{}${"}".repeat(2000)}`));
});

test("parse gives what JSON.parse gives, but for an integer past 2**53: a bigint with every digit", () => {
  const next = random(11);
  for (let i = 0; i < 1000; i++) {
    const compact = JSON.stringify(generate(next, 0));
    // With a long integer beside it, the value goes through the exact parse.
    const [value, big] = JsonText.from(Buffer.from(`[${compact}, 12345678901234567890]`))!.parse() as [unknown, bigint];
    assert.deepStrictEqual(value, JSON.parse(compact), compact);
    assert.equal(big, 12345678901234567890n);
  }
  const exact = (text: string) => JsonText.from(Buffer.from(text))!.parse();
  assert.deepStrictEqual(exact('{"a": -9007199254740993, "b": 9007199254740991, "c": "12345678901234567890", "d": 1.5e300, "e": 10000000000000000}'), {
    a: -9007199254740993n,
    b: 9007199254740991,
    c: "12345678901234567890",
    d: 1.5e300,
    e: 10000000000000000n,
  });
  assert.equal(exact("18446744073709551617"), 18446744073709551617n);
  const own = exact('{"__proto__": 18446744073709551617, "x": 1, "x": 2}') as Record<string, unknown>;
  assert.deepEqual(Object.keys(own), ["__proto__", "x"]);
  assert.equal(Object.getPrototypeOf(own), Object.prototype);
  assert.equal(own["x"], 2);
  let deep: unknown = exact(`${"[".repeat(3000)}18446744073709551617${"]".repeat(3000)}`);
  for (let depth = 0; depth < 3000; depth++) deep = (deep as unknown[])[0];
  assert.equal(deep, 18446744073709551617n);
});

test("numbers keep Python's text, members keep their order, strings keep their escapes", () => {
  assert.equal(printed("[1.0, 1e5, 1E+5, -0.0, 12345678901234567890, 1e-07]"), "[\n  1.0,\n  1e5,\n  1E+5,\n  -0.0,\n  12345678901234567890,\n  1e-07\n]");
  assert.equal(printed('{"b": 1, "1": 2}'), '{\n  "b": 1,\n  "1": 2\n}');
  assert.equal(printed('"\\u00e9\\/"'), '"\\u00e9\\/"');
});

test("accepts exactly what JSON.parse accepts: fixed cases and random one-byte mutations", () => {
  const invalid = ["", " ", "[1,]", '{"a"}', '{"a":}', '{"a":1,}', "[1 2]", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "[", "]", '"a', '"\\x"', '"\\u12g4"', '"\t"', "{1:2}", "[1]]", "1 2", "{}{}"];
  for (const text of invalid) assert.equal(JsonText.from(Buffer.from(text)), null, text);
  const next = random(3);
  const alphabet = '{}[],: "\\0123456789-+.eEtruefalsn\nu';
  for (let i = 0; i < 20_000; i++) {
    const base = JSON.stringify(generate(next, 0));
    const at = Math.floor(next() * (base.length + 1));
    const mutated = next() < 0.5 ? base.slice(0, at) + base.slice(at + 1) : base.slice(0, at) + alphabet[Math.floor(next() * alphabet.length)] + base.slice(at);
    let parses = true;
    try {
      JSON.parse(mutated);
    } catch {
      parses = false;
    }
    assert.equal(JsonText.from(Buffer.from(mutated)) !== null, parses, mutated);
  }
});

test("writeJson prints a JsonText inside any value, at its depth, as JSON.stringify prints the parsed value", () => {
  const next = random(5);
  for (let i = 0; i < 300; i++) {
    const inner = JSON.stringify(generate(next, 0));
    const text = JsonText.from(Buffer.from(inner))!;
    const wrap = (value: unknown) => ({ job_id: "J", nested: [{ result: value, error: null }], result: value, warnings: ["\u0000json-text-"] });
    const chunks: string[] = [];
    writeJson(wrap(text), (chunk) => chunks.push(chunk.toString()));
    assert.equal(chunks.join(""), JSON.stringify(wrap(JSON.parse(inner)), null, 2));
  }
  const alone: string[] = [];
  writeJson(JsonText.from(Buffer.from("[1,{}]")), (chunk) => alone.push(chunk.toString()));
  assert.equal(alone.join(""), "[\n  1,\n  {}\n]");
});
