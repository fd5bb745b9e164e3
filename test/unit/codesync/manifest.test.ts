import assert from "node:assert/strict";
import { readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { localManifest, sha256 } from "../../../src/codesync/manifest.js";
import { selectFiles } from "../../../src/codesync/select.js";
import { makeTree } from "./tree.js";

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

test("hashes are cached by (size, mtime, inode): an unchanged file is not read again", async () => {
  const root = makeTree({ "a.py": "aaa", "b.py": "bbb" });
  const cacheDir = makeTree({});
  roots.push(root, cacheDir);
  const old = Date.now() / 1000 - 3600;
  for (const f of ["a.py", "b.py"]) utimesSync(join(root, f), old, old);
  const first = localManifest(root, await selectFiles({ root }), cacheDir);
  assert.equal(first[0]!.sha256, "9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0");

  // Poison the cache: if the file were read again, the real hash would come back.
  const cacheFile = join(cacheDir, "codesync-hashes.json");
  const cache = JSON.parse(readFileSync(cacheFile, "utf8"));
  cache.files["a.py"][3] = "cached";
  writeFileSync(cacheFile, JSON.stringify(cache));
  const second = localManifest(root, await selectFiles({ root }), cacheDir);
  assert.equal(second[0]!.sha256, "cached");

  // A changed mtime means a re-read.
  utimesSync(join(root, "a.py"), old + 1, old + 1);
  const third = localManifest(root, await selectFiles({ root }), cacheDir);
  assert.equal(third[0]!.sha256, first[0]!.sha256);
});

test("a large project's hash cache is rewritten only once more than 1% of it is new; the manifest is right either way", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 10_100; i++) files[`d${i % 20}/f${i}.py`] = `x = ${i}\n`;
  const root = makeTree(files);
  const cacheDir = makeTree({});
  roots.push(root, cacheDir);
  const old = Date.now() / 1000 - 3600;
  const edit = (i: number, text: string) => {
    writeFileSync(join(root, `d${i % 20}/f${i}.py`), text);
    utimesSync(join(root, `d${i % 20}/f${i}.py`), old + 10, old + 10);
  };
  for (let i = 0; i < 10_100; i++) utimesSync(join(root, `d${i % 20}/f${i}.py`), old, old);
  const cacheFile = join(cacheDir, "codesync-hashes.json");
  const hashOf = (manifest: ReturnType<typeof localManifest>, i: number) => manifest.find((e) => e.path === `d${i % 20}/f${i}.py`)!.sha256;
  localManifest(root, await selectFiles({ root }), cacheDir);
  const written = readFileSync(cacheFile, "utf8");

  edit(7, "x = 'seven'\n");
  const one = localManifest(root, await selectFiles({ root }), cacheDir);
  assert.equal(hashOf(one, 7), sha256("x = 'seven'\n"));
  assert.equal(readFileSync(cacheFile, "utf8"), written, "one file of 10,100: the cache is left as it was");

  for (let i = 100; i < 210; i++) edit(i, `x = 'edited ${i}'\n`);
  const many = localManifest(root, await selectFiles({ root }), cacheDir);
  const rewritten = JSON.parse(readFileSync(cacheFile, "utf8")).files;
  assert.equal(rewritten["d7/f7.py"][3], sha256("x = 'seven'\n"), "111 new hashes of 10,100: rewritten, with every one");
  assert.equal(rewritten["d3/f103.py"][3], sha256("x = 'edited 103'\n"));
  assert.equal(hashOf(many, 103), sha256("x = 'edited 103'\n"));
});
