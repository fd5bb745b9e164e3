import assert from "node:assert/strict";
import { renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { localManifest } from "../../../src/codesync/manifest.js";
import { type SelectOptions, selectFiles } from "../../../src/codesync/select.js";
import { scratchDir } from "../../helpers/scratch.js";
import { settle } from "../../helpers/settle.js";
import { age, gitInit, makeTree } from "./tree.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A project tree (aged) and a cache dir, with its first selection done (and cached). */
async function project(files: Record<string, string>, extra: Partial<SelectOptions> = {}) {
  const root = makeTree({ ".gitignore": "*.log\n", "a/b/c.py": "C = 1\n", "a/d.py": "D = 1\n", "top.py": "", ...files });
  const cacheDir = scratchDir("sr-cs-cache-");
  dirs.push(root, cacheDir);
  age(root);
  const select = (more: Partial<SelectOptions> = {}) => selectFiles({ root, cacheDir, ...extra, ...more });
  const first = await select();
  assert.equal(first.reused, false);
  return { root, cacheDir, select, first: first.files.map((f) => f.path) };
}

describe("selection cache", () => {
  test("is reused while nothing in the tree changed, with the same selection", async () => {
    const p = await project({ "x.log": "" });
    const again = await p.select();
    assert.equal(again.reused, true);
    assert.deepEqual(
      again.files.map((f) => f.path),
      p.first,
    );
    assert.deepEqual(p.first, [".gitignore", "a/b/c.py", "a/d.py", "top.py"]);
  });

  test("a new file in a nested directory invalidates it", async () => {
    const p = await project({});
    writeFileSync(join(p.root, "a/b/new.py"), "");
    const next = await p.select();
    assert.equal(next.reused, false);
    assert.deepEqual(
      next.files.map((f) => f.path),
      [".gitignore", "a/b/c.py", "a/b/new.py", "a/d.py", "top.py"],
    );
  });

  test("a new file in a directory whose mtime is then set back (as `rsync -a` leaves it) invalidates it", async () => {
    const p = await project({});
    const dir = join(p.root, "a/b");
    const before = statSync(dir).mtime;
    writeFileSync(join(dir, "new.py"), "");
    utimesSync(dir, before, before);
    const next = await p.select();
    assert.equal(next.reused, false);
    assert.ok(next.files.some((f) => f.path === "a/b/new.py"));
  });

  test("a deleted file invalidates it", async () => {
    const p = await project({});
    unlinkSync(join(p.root, "a/b/c.py"));
    const next = await p.select();
    assert.equal(next.reused, false);
    assert.deepEqual(
      next.files.map((f) => f.path),
      [".gitignore", "a/d.py", "top.py"],
    );
  });

  test("a renamed file invalidates it", async () => {
    const p = await project({});
    renameSync(join(p.root, "a/b/c.py"), join(p.root, "a/b/e.py"));
    const next = await p.select();
    assert.equal(next.reused, false);
    assert.deepEqual(
      next.files.map((f) => f.path),
      [".gitignore", "a/b/e.py", "a/d.py", "top.py"],
    );
  });

  test("an edited .gitignore invalidates it", async () => {
    const p = await project({});
    writeFileSync(join(p.root, ".gitignore"), "*.log\nd.py\n");
    const next = await p.select();
    assert.equal(next.reused, false);
    assert.deepEqual(
      next.files.map((f) => f.path),
      [".gitignore", "a/b/c.py", "top.py"],
    );
  });

  test("an edited nested .slurmrayignore invalidates it", async () => {
    const p = await project({ "a/.slurmrayignore": "nothing\n" });
    writeFileSync(join(p.root, "a/.slurmrayignore"), "b/\n");
    const next = await p.select();
    assert.equal(next.reused, false);
    assert.deepEqual(
      next.files.map((f) => f.path),
      [".gitignore", "a/.slurmrayignore", "a/d.py", "top.py"],
    );
  });

  test("a changed `exclude` invalidates it", async () => {
    const p = await project({}, { exclude: ["top.py"] });
    assert.deepEqual(p.first, [".gitignore", "a/b/c.py", "a/d.py"]);
    const next = await p.select({ exclude: ["a/d.py"] });
    assert.equal(next.reused, false);
    assert.deepEqual(
      next.files.map((f) => f.path),
      [".gitignore", "a/b/c.py", "top.py"],
    );
  });

  test("an in-place edit keeps it, and the manifest shows exactly that file changed", async () => {
    const p = await project({});
    const before = localManifest(p.root, await p.select(), p.cacheDir);
    writeFileSync(join(p.root, "a/b/c.py"), "C = 2\n"); // same size, same directory listing
    const selection = await p.select();
    assert.equal(selection.reused, true);
    const edited = localManifest(p.root, selection, p.cacheDir);
    const changed = edited.filter((e, i) => e.sha256 !== before[i]!.sha256).map((e) => e.path);
    assert.deepEqual(changed, ["a/b/c.py"]);
  });

  test("is not written when a directory changed within the clock's tick of the walk", async () => {
    const p = await project({});
    writeFileSync(join(p.root, "a/new.py"), ""); // a/ is now racily recent
    assert.equal((await p.select()).reused, false);
    const again = await p.select();
    assert.equal(again.reused, false);
    assert.ok(again.files.some((f) => f.path === "a/new.py"));
  });

  test("is not written when a directory changed within the clock's tick of the walk", async () => {
    const p = await project({});
    writeFileSync(join(p.root, "a/new.py"), "");
    const walked = await p.select(); // at once: a second change in the same tick would keep the ctime
    assert.equal(walked.reused, false);
    assert.equal((await p.select()).reused, false, "the walk's result was not kept");
    settle(join(p.root, "a"));
    await p.select();
    assert.equal((await p.select()).reused, true, "once the tick is over, it is");
  });

  test("is not used for a folder inside a git work tree (rules in the folders above would count too)", async () => {
    const top = makeTree({ "sub/a.py": "" });
    const cacheDir = scratchDir("sr-cs-cache-");
    dirs.push(top, cacheDir);
    gitInit(top);
    age(top);
    const root = join(top, "sub");
    const first = await selectFiles({ root, cacheDir });
    const second = await selectFiles({ root, cacheDir });
    assert.deepEqual([first.reused, second.reused], [false, false]);
    assert.deepEqual(
      second.files.map((f) => f.path),
      ["a.py"],
    );
  });
});
