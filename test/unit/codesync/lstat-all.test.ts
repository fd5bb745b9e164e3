import assert from "node:assert/strict";
import { chmodSync, lstatSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { FIELDS, lstatAll } from "../../../src/codesync/lstat-all.js";
import { encodeName } from "../../../src/codesync/names.js";
import { link, makeTree } from "./tree.js";

const root = makeTree({ "a.py": "1\n", "sub/b.py": "22\n", "run.sh": "#!/bin/sh\n", "Latin-\udce9.py": "3\n", "empty/": "" });
after(() => rmSync(root, { recursive: true, force: true }));
chmodSync(join(root, "run.sh"), 0o755);
link(root, "to-a", "a.py");

/** What one lstatSync per path says, in lstatAll's layout. */
function expected(paths: readonly (string | Buffer)[]): number[] {
  return paths.flatMap((p) => {
    try {
      const s = lstatSync(p);
      return [s.mode, s.size, s.ctimeMs, s.ino];
    } catch {
      return [-1, 0, 0, 0];
    }
  });
}

const names = ["a.py", "sub/b.py", "run.sh", "to-a", "empty", "gone.py", "sub/b.py/not-a-dir"];
// Many paths, so that both threads get files, links, dirs, escaped names and paths that cannot be stat'ed.
const paths = Array.from({ length: 400 }, (_, i) => (i % 9 === 8 ? encodeName(join(root, "Latin-\udce9.py")) : join(root, names[i % names.length]!)));

test("a selection split with a worker stats every path as one thread does, in order", async () => {
  const split = await lstatAll(paths, 1);
  assert.equal(split.length, paths.length * FIELDS);
  assert.deepEqual([...split], expected(paths));
});

test("a small selection is stat'ed on this thread, with the same result", async () => {
  assert.deepEqual([...(await lstatAll(paths.slice(0, 20)))], expected(paths.slice(0, 20)));
});

test("a path that cannot be stat'ed has mode -1, never another path's numbers", async () => {
  const gone = [join(root, "gone.py"), join(root, "a.py"), join(root, "sub/b.py/not-a-dir")];
  const out = await lstatAll(gone, 1);
  assert.equal(out[0], -1);
  assert.equal(out[FIELDS], lstatSync(join(root, "a.py")).mode);
  assert.equal(out[2 * FIELDS], -1);
});
