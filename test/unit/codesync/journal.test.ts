import assert from "node:assert/strict";
import { test } from "node:test";
import { deltaLine, fullLine, replayJournal } from "../../../src/codesync/journal.js";

const entry = (path: string, sha256: string) => ({ path, size: 1, mtimeMs: 1, sha256, mode: 0o644 });

test("a journal replays to the manifest: full line, then changes and deletions in order", () => {
  const journal =
    fullLine([entry("a", "1"), entry("b", "1"), entry("c", "1")]) +
    deltaLine([entry("b", "2"), entry("0new", "1")], ["c"]) +
    deltaLine([entry("c", "3")], ["a"]);
  assert.deepEqual(replayJournal(journal), [entry("0new", "1"), entry("b", "2"), entry("c", "3")]);
});

test("malformed journals replay to null", () => {
  assert.equal(replayJournal(""), null);
  assert.equal(replayJournal(deltaLine([entry("a", "1")], [])), null, "no full line first");
  assert.equal(replayJournal(`${fullLine([])}{"changed":`), null, "truncated line");
  assert.equal(replayJournal(fullLine([]) + fullLine([])), null, "a full line after the first");
});
