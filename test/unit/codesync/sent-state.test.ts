// The last-sent id is read from its own small file (so a sync with nothing changed never parses the
// entries), falling back to the state file that caches from before it hold.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { lastCodeId } from "../../../src/codesync/sync.js";
import { scratchDir } from "../../helpers/scratch.js";

const cacheDir = scratchDir("sr-sent-");
after(() => rmSync(cacheDir, { recursive: true, force: true }));
const [a, b] = ["a".repeat(64), "b".repeat(64)];

test("the id comes from code-id, else from the state file, else there is none", () => {
  mkdirSync(join(cacheDir, "t"));
  assert.equal(lastCodeId(cacheDir, "t"), null);
  writeFileSync(join(cacheDir, "t", "code-state.json"), JSON.stringify({ id: a, entries: [] }));
  assert.equal(lastCodeId(cacheDir, "t"), a);
  writeFileSync(join(cacheDir, "t", "code-id"), b);
  assert.equal(lastCodeId(cacheDir, "t"), b);
  writeFileSync(join(cacheDir, "t", "code-id"), "not an id");
  assert.equal(lastCodeId(cacheDir, "t"), a);
});
