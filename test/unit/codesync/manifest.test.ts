import assert from "node:assert/strict";
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { localManifest, sha256 } from "../../../src/codesync/manifest.js";
import { selectFiles } from "../../../src/codesync/select.js";
import { racilyRecent } from "../../../src/util/racy.js";
import { settle } from "../../helpers/settle.js";
import { age, makeTree } from "./tree.js";

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

test("hashes are cached by (size, ctime, inode): an unchanged file is not read again", async () => {
  const root = makeTree({ "a.py": "aaa", "b.py": "bbb" });
  const cacheDir = makeTree({});
  roots.push(root, cacheDir);
  age(root);
  const first = localManifest(root, await selectFiles({ root }), cacheDir);
  assert.equal(first[0]!.sha256, "9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0");

  // Poison the cache: if the file were read again, the real hash would come back.
  const cacheFile = join(cacheDir, "codesync-hashes.json");
  const cache = JSON.parse(readFileSync(cacheFile, "utf8"));
  assert.deepEqual(cache.paths, ["a.py", "b.py"]);
  cache.sha = "c".repeat(64) + cache.sha.slice(64);
  writeFileSync(cacheFile, JSON.stringify(cache));
  const second = localManifest(root, await selectFiles({ root }), cacheDir);
  assert.equal(second[0]!.sha256, "c".repeat(64));
  assert.equal(second[1]!.sha256, first[1]!.sha256);

  // A changed ctime means a re-read, even with the mtime set back as it was.
  const { mtime } = statSync(join(root, "a.py"));
  utimesSync(join(root, "a.py"), mtime, mtime);
  const third = localManifest(root, await selectFiles({ root }), cacheDir);
  assert.equal(third[0]!.sha256, first[0]!.sha256);
});

test("racily recent: within 100 ms of a fine clock's time, within a second of a whole-second one (a coarse clock)", () => {
  const fine = 1_764_590_000_123.456;
  assert.deepEqual([racilyRecent(fine, fine + 100), racilyRecent(fine, fine + 101)], [true, false]);
  const whole = 1_764_590_000_000;
  assert.deepEqual([racilyRecent(whole, whole + 1000), racilyRecent(whole, whole + 1001)], [true, false]);
});

test("a large project's hash cache is rewritten only once more than 1% of it is new; the manifest is right either way", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 10_100; i++) files[`d${i % 20}/f${i}.py`] = `x = ${i}\n`;
  const root = makeTree(files);
  const cacheDir = makeTree({});
  roots.push(root, cacheDir);
  const edit = (i: number, text: string) => writeFileSync(join(root, `d${i % 20}/f${i}.py`), text);
  age(root);
  const cacheFile = join(cacheDir, "codesync-hashes.json");
  const hashOf = (manifest: ReturnType<typeof localManifest>, i: number) => manifest.find((e) => e.path === `d${i % 20}/f${i}.py`)!.sha256;
  localManifest(root, await selectFiles({ root }), cacheDir);
  const written = readFileSync(cacheFile, "utf8");

  edit(7, "x = 'seven'\n");
  settle(join(root, "d7/f7.py"));
  const one = localManifest(root, await selectFiles({ root }), cacheDir);
  assert.equal(hashOf(one, 7), sha256("x = 'seven'\n"));
  assert.equal(readFileSync(cacheFile, "utf8"), written, "one file of 10,100: the cache is left as it was");

  for (let i = 100; i < 210; i++) edit(i, `x = 'edited ${i}'\n`);
  settle(join(root, "d9/f209.py"));
  const many = localManifest(root, await selectFiles({ root }), cacheDir);
  const rewritten = JSON.parse(readFileSync(cacheFile, "utf8")) as { paths: string[]; sha: string };
  const cachedHash = (path: string) => rewritten.sha.slice(64 * rewritten.paths.indexOf(path), 64 * rewritten.paths.indexOf(path) + 64);
  assert.equal(cachedHash("d7/f7.py"), sha256("x = 'seven'\n"), "111 new hashes of 10,100: rewritten, with every one");
  assert.equal(cachedHash("d3/f103.py"), sha256("x = 'edited 103'\n"));
  assert.equal(hashOf(many, 103), sha256("x = 'edited 103'\n"));
});

test("files added or removed between cached ones leave the others' cache entries found", async () => {
  const root = makeTree({ "a.py": "a", "c.py": "c", "e.py": "e" });
  const cacheDir = makeTree({});
  roots.push(root, cacheDir);
  age(root);
  localManifest(root, await selectFiles({ root }), cacheDir);
  // Poison every cached hash: a file found in the cache comes back with the poison, one read with its real hash.
  const cacheFile = join(cacheDir, "codesync-hashes.json");
  const cache = JSON.parse(readFileSync(cacheFile, "utf8"));
  cache.sha = "c".repeat(64 * 3);
  writeFileSync(cacheFile, JSON.stringify(cache));
  writeFileSync(join(root, "b.py"), "b");
  writeFileSync(join(root, "0.py"), "0");
  rmSync(join(root, "c.py"));
  const manifest = localManifest(root, await selectFiles({ root }), cacheDir);
  assert.deepEqual(
    manifest.map((e) => [e.path, e.sha256]),
    [
      ["0.py", sha256("0")],
      ["a.py", "c".repeat(64)],
      ["b.py", sha256("b")],
      ["e.py", "c".repeat(64)],
    ],
  );
});
