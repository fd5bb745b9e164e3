import assert from "node:assert/strict";
import { readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { localManifest } from "../../../src/codesync/manifest.js";
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
