// The last-sent id is read from its own small file (so a sync with nothing changed never parses the
// entries), falling back to the state file that caches from before it hold.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { lastCodeId, sentState, stateFile, toColumns } from "../../../src/codesync/sent-state.js";
import { scratchDir } from "../../helpers/scratch.js";

const cacheDir = scratchDir("sr-sent-");
after(() => rmSync(cacheDir, { recursive: true, force: true }));
const [a, b] = ["a".repeat(64), "b".repeat(64)];

test("the id comes from code-id, else from the state file, else there is none", () => {
  mkdirSync(join(cacheDir, "t"));
  assert.equal(lastCodeId(cacheDir, "t"), null);
  writeFileSync(join(cacheDir, "t", "code-state.json"), JSON.stringify({ id: a, paths: [], sha: "", modes: [], links: [] }));
  assert.equal(lastCodeId(cacheDir, "t"), a);
  writeFileSync(join(cacheDir, "t", "code-id"), b);
  assert.equal(lastCodeId(cacheDir, "t"), b);
  writeFileSync(join(cacheDir, "t", "code-id"), "not an id");
  assert.equal(lastCodeId(cacheDir, "t"), a);
});

test("the sent state reads back as written: paths, hashes, modes and link targets", () => {
  const entries = [
    { path: "a.py", sha256: "1".repeat(64), mode: 0o644 },
    { path: "bin/run", sha256: "2".repeat(64), mode: 0o755 },
    { path: "link", sha256: "3".repeat(64), mode: 0o777, link: "a.py" },
    { path: "caf\udce9.py", sha256: "4".repeat(64), mode: 0o644 },
  ];
  mkdirSync(join(cacheDir, "u"));
  writeFileSync(stateFile(cacheDir, "u"), JSON.stringify(toColumns(a, entries)));
  assert.deepEqual(sentState(cacheDir, "u", a), { id: a, entries });
  assert.equal(sentState(cacheDir, "u", b), null, "the state of another manifest is never a base");
});

test("a sent state of the wrong shape is no base at all", () => {
  const good = toColumns(a, [{ path: "a.py", sha256: "1".repeat(64), mode: 0o644 }]);
  const bad = [
    { ...good, sha: good.sha.slice(1) },
    { ...good, paths: [7] },
    { ...good, modes: [] },
    { ...good, links: [[1, "x"]] },
    { ...good, links: [[0, 5]] },
    { id: a, entries: [] },
  ];
  mkdirSync(join(cacheDir, "v"));
  for (const state of bad) {
    writeFileSync(stateFile(cacheDir, "v"), JSON.stringify(state));
    assert.equal(sentState(cacheDir, "v", a), null, JSON.stringify(state));
  }
  writeFileSync(stateFile(cacheDir, "v"), "{truncated");
  assert.equal(sentState(cacheDir, "v", a), null);
});
