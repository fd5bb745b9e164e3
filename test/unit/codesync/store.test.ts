import assert from "node:assert/strict";
import { test } from "node:test";
import type { ManifestEntry } from "../../../src/codesync/manifest.js";
import { codeProbeSnippet, parseCodeProbe } from "../../../src/codesync/remote.js";
import { deltaOf, manifestBytes, manifestId, parseApply } from "../../../src/codesync/store.js";

const entry = (path: string, sha = "a".repeat(64), mode = 0o644, link?: string): ManifestEntry => ({ path, size: 1, mtimeMs: 1, sha256: sha, mode, link });

test("a manifest's id depends on content, the executable bit, kind and link targets, not on mtimes or order", () => {
  const base = [entry("b"), entry("a")];
  assert.equal(manifestId(base), manifestId([entry("a"), { ...entry("b"), mtimeMs: 99, mode: 0o600 }]));
  assert.notEqual(manifestId(base), manifestId([entry("a"), entry("b", "a".repeat(64), 0o755)]));
  assert.notEqual(manifestId(base), manifestId([entry("a"), entry("b", "b".repeat(64))]));
  assert.notEqual(manifestId(base), manifestId([entry("a"), entry("b", "a".repeat(64), 0o777, "x")]));
});

test("records are sorted by path bytes (the order codestore.py uses), not by UTF-16 code units", () => {
  // UTF-16 puts the emoji (a surrogate pair, D83D…) before U+FFFD; UTF-8 puts EF BF BD before F0 9F…
  const bytes = manifestBytes([entry("\u{1F600}"), entry("\uFFFD")]);
  assert.ok(bytes.indexOf(Buffer.from(" \uFFFD")) < bytes.indexOf(Buffer.from(" \u{1F600}")));
});

test("a delta holds changed records and removals only", () => {
  const delta = deltaOf([entry("a"), entry("b"), entry("c")], [entry("a"), entry("b", "b".repeat(64)), entry("d")]).toString("latin1");
  assert.equal(delta, `f${"b".repeat(64)} b\0f${"a".repeat(64)} d\0dc\0`);
});

test("the code probe section parses to the uid and whether the last tree exists", () => {
  assert.match(codeProbeSnippet("/home/u/.slurmray x", "f".repeat(64)), /'\/home\/u\/\.slurmray x\/trees\/'"\$sr_uid"\/f{64}/);
  assert.match(codeProbeSnippet("/b", null), /if false;/);
  assert.deepEqual(parseCodeProbe("noise\n@@slurmray:code:begin@@\nuid 1001\ntree present\n@@slurmray:code:end@@\n"), { uid: "1001", present: true });
  assert.deepEqual(parseCodeProbe("@@slurmray:code:begin@@\nuid 0\ntree missing\n@@slurmray:code:end@@\n"), { uid: "0", present: false });
  assert.equal(parseCodeProbe("@@slurmray:code:begin@@\ngarbage\n@@slurmray:code:end@@\n"), undefined);
  assert.equal(parseCodeProbe("@@slurmray:env:begin@@\n@@slurmray:env:end@@\n"), undefined);
});

test("an apply's last line decides its outcome", () => {
  assert.deepEqual(parseApply("ok\n"), { kind: "ok" });
  assert.deepEqual(parseApply("nobase\n"), { kind: "nobase" });
  assert.deepEqual(parseApply("missing k1 k2x\n"), { kind: "missing", keys: ["k1", "k2x"] });
  assert.equal(parseApply("Traceback...\n"), null);
});
