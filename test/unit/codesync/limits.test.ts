import assert from "node:assert/strict";
import { test } from "node:test";
import { sizeWarnings } from "../../../src/codesync/limits.js";

const MB = 1024 * 1024;
const file = (path: string, size: number) => ({ path, size, ctimeMs: 0, ino: 0, mode: 0o644 });

test("no warning under the limits", () => {
  assert.deepEqual(sizeWarnings([file("a.py", 10), file("b.py", 19 * MB)]), []);
});

test("files above the file limit are listed, largest first", () => {
  const [w] = sizeWarnings([file("small.py", 1), file("ckpt.pt", 30 * MB), file("data.h5", 50 * MB)]);
  assert.match(w!, /^2 file\(s\) larger than 20\.0 MB: data\.h5 \(50\.0 MB\), ckpt\.pt \(30\.0 MB\);/);
});

test("a total above the limit names the largest offenders (at most five); limits are configurable", () => {
  const files = Array.from({ length: 8 }, (_, i) => file(`f${i}.bin`, (i + 1) * MB));
  const warnings = sizeWarnings(files, { totalBytes: 10 * MB });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /total 36\.0 MB, above 10\.0 MB; largest: f7\.bin \(8\.0 MB\), f6\.bin.*f3\.bin \(4\.0 MB\);/);
  assert.doesNotMatch(warnings[0]!, /f2\.bin/);
});
