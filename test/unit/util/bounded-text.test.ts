import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundedText, HEAD_BYTES, TAIL_BYTES } from "../../../src/util/bounded-text.js";

test("text under the bound is kept whole, a character split across chunks included", () => {
  const kept = new BoundedText();
  const text = `${"a".repeat(HEAD_BYTES - 1)}é and more`;
  const bytes = Buffer.from(text);
  // The split falls inside "é", which straddles the head's end.
  kept.add(bytes.subarray(0, HEAD_BYTES));
  kept.add(bytes.subarray(HEAD_BYTES));
  assert.equal(kept.text(), text);
});

test("endless output keeps its start and its last TAIL_BYTES, and says how much it left out", () => {
  const kept = new BoundedText();
  kept.add(Buffer.from("START\n"));
  const chunk = Buffer.alloc(100_000, "x");
  for (let i = 0; i < 300; i++) kept.add(chunk); // 30 MB
  kept.add(Buffer.from("\nEND\n"));
  const text = kept.text();
  assert.ok(text.startsWith("START\n"));
  assert.ok(text.endsWith("x\nEND\n"));
  assert.ok(text.length <= HEAD_BYTES + TAIL_BYTES + 100, `${text.length}`);
  const dropped = Number(/\[… (\d+) bytes of output left out …\]/.exec(text)?.[1]);
  const total = 6 + 300 * 100_000 + 5;
  const keptBytes = Buffer.byteLength(text) - Buffer.byteLength(`\n[… ${dropped} bytes of output left out …]\n`);
  assert.equal(keptBytes + dropped, total, "every byte is either kept or counted as left out");
});
