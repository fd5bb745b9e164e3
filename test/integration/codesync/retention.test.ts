// Retention over the local transport: old job dirs go, active and recent ones stay.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { cleanJobDirs, retentionSnippet } from "../../../src/codesync/retention.js";
import { syncCode } from "../../../src/codesync/sync.js";
import { LocalTransport } from "../../../src/transport/local.js";
import { makeTree } from "../../unit/codesync/tree.js";

const transport = new LocalTransport();
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const DAY = 24 * 3600;

/** A jobs dir with job dirs aged (in days) as given; every file and dir gets that mtime. */
function jobsDir(ages: Record<string, number>): string {
  const files: Record<string, string> = {};
  for (const id of Object.keys(ages)) files[`${id}/job.log`] = "x".repeat(5000);
  const root = makeTree(files, "sr-jobs-");
  roots.push(root);
  const now = Date.now() / 1000;
  for (const [id, days] of Object.entries(ages)) {
    for (const p of [join(root, id, "job.log"), join(root, id)]) utimesSync(p, now - days * DAY, now - days * DAY);
  }
  return root;
}

test("old job dirs are removed; active and recent ones stay; the space freed is reported", async () => {
  const dir = jobsDir({ old1: 10, old2: 30, recent: 2, active: 40 });
  const result = await cleanJobDirs(transport, { jobsDir: dir, olderThanDays: 7, activeJobIds: ["active"] });
  assert.deepEqual(result.removed.sort(), ["old1", "old2"]);
  assert.ok(result.bytesFreed >= 2 * 5000, `bytes freed: ${result.bytesFreed}`);
  assert.deepEqual(["old1", "old2", "recent", "active"].map((id) => existsSync(join(dir, id))), [false, false, true, true]);
});

test("an old job dir with a recently written file (a job we do not know about) stays", async () => {
  const dir = jobsDir({ writing: 20 });
  const now = Date.now() / 1000;
  utimesSync(join(dir, "writing", "job.log"), now, now);
  const result = await cleanJobDirs(transport, { jobsDir: dir, olderThanDays: 7, activeJobIds: [] });
  assert.deepEqual(result.removed, []);
  assert.ok(existsSync(join(dir, "writing")));
});

test("a missing jobs dir is nothing to clean; the command count is one", async () => {
  const before = transport.commandCount;
  const result = await cleanJobDirs(transport, { jobsDir: "/nonexistent/jobs", olderThanDays: 7, activeJobIds: [] });
  assert.deepEqual(result, { removed: [], bytesFreed: 0, treesRemoved: 0, objectsRemoved: 0 });
  assert.equal(transport.commandCount, before + 1);
});

test("the background form returns at once and cleans behind", async () => {
  const dir = jobsDir({ old: 10, active: 10 });
  const result = await transport.script(retentionSnippet({ jobsDir: dir, olderThanDays: 7, activeJobIds: ["active"] }, true));
  assert.equal(result.stdout, "");
  for (let i = 0; i < 50 && existsSync(join(dir, "old")); i++) await sleep(100);
  assert.ok(!existsSync(join(dir, "old")));
  assert.ok(existsSync(join(dir, "active")));
});

test("the store's collection removes day-old trees no job links to and objects no tree holds, nothing else", async () => {
  const root = makeTree({ "keep.py": "kept", "both.py": "shared", "gone.py": "unreferenced" }, "sr-gc-proj-");
  const base = makeTree({}, "sr-gc-base-");
  const cacheDir = makeTree({}, "sr-gc-cache-");
  roots.push(root, cacheDir);
  after(() => execFileSync("sh", ["-c", 'chmod -R u+w "$1"; rm -rf "$1"', "sh", base]));
  const sync = (targetKey: string) => syncCode(transport, { root, baseDir: base, python: "python3", cacheDir, targetKey });
  rmSync(join(root, "gone.py"));
  const kept = await sync("a");
  writeFileSync(join(root, "gone.py"), "unreferenced");
  const old = await sync("b");
  // A job links the first tree; everything is two days old.
  mkdirSync(join(base, "projects", "p", "jobs", "j1"), { recursive: true });
  symlinkSync(kept.treeDir, join(base, "projects", "p", "jobs", "j1", "code"));
  execFileSync("sh", ["-c", 'find "$1/trees" "$1/objects" -exec touch -h -d "2 days ago" {} +', "sh", base]);
  const result = await cleanJobDirs(transport, { jobsDir: join(base, "projects", "p", "jobs"), olderThanDays: 7, activeJobIds: [], store: { baseDir: base, python: "python3" } });
  assert.deepEqual([result.treesRemoved, existsSync(old.treeDir), existsSync(kept.treeDir)], [1, false, true]);
  assert.equal(result.objectsRemoved, 1, "gone.py's object, which only the removed tree and spares held");
  assert.equal(readFileSync(join(kept.treeDir, "both.py"), "utf8"), "shared");
  const spares = () => readdirSync(dirname(kept.treeDir)).filter((name) => name.startsWith(".spare-"));
  assert.deepEqual(spares(), [], "day-old spares go with the trees");
  // A spare younger than a day stays, and the next change derives from it.
  writeFileSync(join(root, "keep.py"), "kept 2");
  const next = await sync("a");
  assert.deepEqual(spares(), [`.spare-${next.id}`]);
  await cleanJobDirs(transport, { jobsDir: join(base, "projects", "p", "jobs"), olderThanDays: 7, activeJobIds: [], store: { baseDir: base, python: "python3" } });
  assert.deepEqual(spares(), [`.spare-${next.id}`]);
});
