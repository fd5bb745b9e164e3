import assert from "node:assert/strict";
import { constants } from "node:buffer";
import { test } from "node:test";
import { announcedSize, PREALLOCATED_MAX, SizedBuffer } from "../../../src/util/sized-buffer.js";

test("an announced size is a plain non-negative integer; anything else counts as 0", () => {
  assert.deepEqual(["0", "42", " 42\n"].map(announcedSize), [0, 42, 42]);
  assert.equal(announcedSize("999999999999999"), constants.MAX_LENGTH, "capped at the largest buffer there can be");
  for (const text of ["", "-5", "1e9", "0x10", "4.5", "NaN", "12 34", "99999999999999999999"]) assert.equal(announcedSize(text), 0, JSON.stringify(text));
});

test("bytes fill the announced buffer; fewer or more than announced come back exactly as they came", () => {
  for (const [announced, sent] of [[5, "hello"], [10, "hi"], [2, "hello world"], [0, "abc"]] as const) {
    const buffer = new SizedBuffer(announced);
    for (const ch of sent) buffer.add(Buffer.from(ch));
    assert.equal(buffer.bytes().toString(), sent);
  }
});

test("an announced terabyte is neither allocated nor a crash: at most PREALLOCATED_MAX is set aside", () => {
  const before = process.memoryUsage().arrayBuffers;
  const buffer = new SizedBuffer(announcedSize("1099511627776"));
  buffer.add(Buffer.from("the real content"));
  assert.equal(buffer.bytes().toString(), "the real content");
  assert.ok(process.memoryUsage().arrayBuffers - before <= PREALLOCATED_MAX + 1e6);
});
