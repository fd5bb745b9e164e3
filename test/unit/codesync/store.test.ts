import assert from "node:assert/strict";
import { test } from "node:test";
import type { ManifestEntry } from "../../../src/codesync/manifest.js";
import { codeProbeSnippet, parseCodeProbe } from "../../../src/codesync/remote.js";
import { deltaBytes, diffManifests, manifestBytes, manifestId, parseApply } from "../../../src/codesync/store.js";

const entry = (path: string, sha = "a".repeat(64), mode = 0o644, link?: string): ManifestEntry => ({ path, size: 1, sha256: sha, mode, link });

test("a manifest's id depends on content, the executable bit, kind and link targets, not on sizes, other mode bits or order", () => {
  const base = [entry("b"), entry("a")];
  assert.equal(manifestId(base), manifestId([entry("a"), { ...entry("b"), size: 99, mode: 0o600 }]));
  assert.notEqual(manifestId(base), manifestId([entry("a"), entry("b", "a".repeat(64), 0o755)]));
  assert.notEqual(manifestId(base), manifestId([entry("a"), entry("b", "b".repeat(64))]));
  assert.notEqual(manifestId(base), manifestId([entry("a"), entry("b", "a".repeat(64), 0o777, "x")]));
});

test("records are sorted by path bytes (the order codestore.py uses), not by UTF-16 code units", () => {
  // UTF-16 puts the emoji (a surrogate pair, D83D…) before U+FFFD; UTF-8 puts EF BF BD before F0 9F…
  const bytes = manifestBytes([entry("\u{1F600}"), entry("\uFFFD")]);
  assert.ok(bytes.indexOf(Buffer.from(" \uFFFD")) < bytes.indexOf(Buffer.from(" \u{1F600}")));
});

test("plain names take the one-string path, with the very bytes and order of the record-by-record one", () => {
  const names = ["z.py", "A.py", "é/x.py", "e/x.py", "_u.py", "-d.py", "~t.py", "a b/c.py", "a/b.py", "a.py", "ab.py", "\u00ff.py", "\u07ff/\ud7ff.py"];
  const entries = names.map((name, i) => entry(name, String(i % 10).repeat(64), i % 3 === 0 ? 0o755 : 0o644, i % 4 === 0 ? `../t${i}` : undefined));
  const recordOf = (e: ManifestEntry) => {
    const kind = e.link !== undefined ? "l" : e.mode & 0o100 ? "x" : "f";
    const parts = [Buffer.from(`${kind}${e.sha256} `), Buffer.from(e.path), Buffer.from([0])];
    if (e.link !== undefined) parts.push(Buffer.from(e.link), Buffer.from([0]));
    return Buffer.concat(parts);
  };
  const expected = Buffer.concat([...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))).map(recordOf));
  assert.deepEqual(manifestBytes(entries), expected);
  assert.deepEqual(manifestBytes([...entries].reverse()), expected);
});

test("a delta holds changed records and removals only", () => {
  const { changed, deleted } = diffManifests([entry("a"), entry("b"), entry("c")], [entry("a"), entry("b", "b".repeat(64)), entry("d")]);
  assert.equal(deltaBytes(changed, deleted).toString("latin1"), `f${"b".repeat(64)} b\0f${"a".repeat(64)} d\0dc\0`);
});

test("the diff of two manifests in one merge: new, changed (content, flag, kind, link target) and gone, in any input order", () => {
  const base = [entry("a"), entry("b"), entry("c"), entry("e", "a".repeat(64), 0o644, "t1"), entry("f"), entry("h")];
  const next = [entry("a"), entry("b", "b".repeat(64)), entry("c", "a".repeat(64), 0o755), entry("d"), entry("e", "a".repeat(64), 0o644, "t2"), entry("g")];
  const expected = { changed: ["b", "c", "d", "e", "g"], deleted: ["f", "h"] };
  for (const [b, n] of [[base, next], [[...base].reverse(), [...next].reverse()]]) {
    const { changed, deleted } = diffManifests(b!, n!);
    assert.deepEqual({ changed: changed.map((e) => e.path), deleted }, expected);
  }
  assert.deepEqual(diffManifests([], [entry("x")]).changed.map((e) => e.path), ["x"]);
  assert.deepEqual(diffManifests([entry("x")], []), { changed: [], deleted: ["x"] });
});

test("the code probe section parses to the uid and whether the last tree exists", () => {
  assert.match(codeProbeSnippet("/home/u/.slurmray x", "f".repeat(64)), /'\/home\/u\/\.slurmray x\/trees\/'"\$sr_uid"\/f{64}/);
  assert.match(codeProbeSnippet("/b", null), /if false;/);
  assert.deepEqual(parseCodeProbe("noise\n@@slurmray:code:begin@@\nuid 1001\ntree present\n@@slurmray:code:end@@\n"), { uid: "1001", present: true, tainted: false });
  assert.deepEqual(parseCodeProbe("@@slurmray:code:begin@@\nuid 1001\ntree present\ntree tainted\n@@slurmray:code:end@@\n"), { uid: "1001", present: true, tainted: true });
  assert.deepEqual(parseCodeProbe("@@slurmray:code:begin@@\nuid 0\ntree missing\n@@slurmray:code:end@@\n"), { uid: "0", present: false, tainted: false });
  // A forged or garbled reply cannot have a missing tree repaired: tainted only with present.
  assert.deepEqual(parseCodeProbe("@@slurmray:code:begin@@\nuid 0\ntree missing\ntree tainted\n@@slurmray:code:end@@\n"), { uid: "0", present: false, tainted: false });
  assert.equal(parseCodeProbe("@@slurmray:code:begin@@\ngarbage\n@@slurmray:code:end@@\n"), undefined);
  assert.equal(parseCodeProbe("@@slurmray:env:begin@@\n@@slurmray:env:end@@\n"), undefined);
});

test("an apply's last line decides its outcome", () => {
  assert.deepEqual(parseApply("ok\n"), { kind: "ok" });
  assert.deepEqual(parseApply("nobase\n"), { kind: "nobase" });
  assert.deepEqual(parseApply("missing k1 k2x\n"), { kind: "missing", keys: ["k1", "k2x"] });
  assert.equal(parseApply("Traceback...\n"), null);
});
