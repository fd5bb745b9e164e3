import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeName, displayName, encodeName } from "../../../src/codesync/names.js";

test("valid UTF-8 names decode as usual and encode back", () => {
  for (const name of ["plain.py", "ünï/ç.py", "emoji 🎉.txt", "new\nline", ""]) {
    assert.equal(decodeName(Buffer.from(name, "utf8")), name);
    assert.deepEqual(encodeName(name), Buffer.from(name, "utf8"));
  }
});

test("invalid bytes round-trip exactly through lone surrogates", () => {
  const cases = [
    [0x63, 0x61, 0x66, 0xe9], // Latin-1 é
    [0xff, 0xfe, 0x41],
    [0xc3], // truncated sequence
    [0xe2, 0x82], // truncated 3-byte
    [0xed, 0xa0, 0x80], // an encoded surrogate is invalid UTF-8
    [0xc0, 0xaf], // overlong
    [0xc3, 0xa9, 0x80, 0xf0, 0x9f, 0x8e, 0x89], // valid é, stray continuation, valid emoji
  ];
  for (const bytes of cases) {
    const buf = Buffer.from(bytes);
    const name = decodeName(buf);
    assert.ok(!name.includes("\uFFFD"), `no replacement character for ${buf.toString("hex")}`);
    assert.deepEqual(encodeName(name), buf, buf.toString("hex"));
    assert.equal(JSON.parse(JSON.stringify(name)), name);
  }
  assert.equal(decodeName(Buffer.from([0x61, 0xe9])), "a\udce9");
});

test("display names show escaped bytes as \\xNN and control characters escaped", () => {
  assert.equal(displayName(decodeName(Buffer.from([0x63, 0xe9]))), "c\\xe9");
  assert.equal(displayName("a\nb"), "a\\nb");
});
