// The selection cache in a git work tree (select-cache.ts, git-listing.ts): git's listing is reused only while
// nothing it depends on changed. Each case changes one thing git reads and checks the selection is git's own.
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { stampTree } from "../../../src/codesync/git-listing.js";
import { selectFiles } from "../../../src/codesync/select.js";
import { SelectionCache } from "../../../src/codesync/select-cache.js";
import { scratchDir } from "../../helpers/scratch.js";
import { settle } from "../../helpers/settle.js";
import { age, git, gitInit, makeTree } from "./tree.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const saved = { ...process.env };
after(() => {
  process.env = saved;
});

/** A committed work tree with an ignored dir and an untracked file, aged, its listing cached. */
async function repo(files: Record<string, string> = {}) {
  const root = makeTree({ ".gitignore": "*.log\nbuild/\n", "a.py": "A\n", "pkg/b.py": "B\n", "pkg/deep/c.py": "C\n", "build/out.bin": "x", "notes.txt": "n", ...files });
  const cacheDir = scratchDir("sr-cs-gitcache-");
  dirs.push(root, cacheDir);
  gitInit(root);
  git(root, "add", ".gitignore", "a.py", "pkg");
  git(root, "commit", "-qm", "init");
  age(root);
  settle(join(root, ".git", "index"));
  const select = async () => {
    const s = await selectFiles({ root, cacheDir });
    return { reused: s.reused, paths: s.files.map((f) => f.path), warnings: s.warnings };
  };
  /** What git lists now, without any cache. */
  const truth = async () => (await selectFiles({ root })).files.map((f) => f.path);
  const first = await select();
  assert.equal(first.reused, false);
  assert.deepEqual((await select()).reused, true, "nothing changed: reused");
  return { root, cacheDir, select, truth };
}

/** After a change: the next selection is not reused, and is git's own. */
async function seen(r: Awaited<ReturnType<typeof repo>>) {
  const next = await r.select();
  assert.equal(next.reused, false, "the change is seen");
  assert.deepEqual(next.paths, await r.truth());
  return next;
}

test("reused while nothing changed, with git's own selection", async () => {
  const r = await repo();
  const again = await r.select();
  assert.equal(again.reused, true);
  assert.deepEqual(again.paths, [".gitignore", "a.py", "notes.txt", "pkg/b.py", "pkg/deep/c.py"]);
  assert.deepEqual(again.paths, await r.truth());
});

test("a new untracked file in a nested dir, even with the dir's mtime set back (rsync -a)", async () => {
  const r = await repo();
  const dir = join(r.root, "pkg/deep");
  const { mtime } = statSync(dir);
  writeFileSync(join(dir, "new.py"), "");
  utimesSync(dir, mtime, mtime);
  assert.ok((await seen(r)).paths.includes("pkg/deep/new.py"));
});

test("a file in a new empty-then-filled dir", async () => {
  const r = await repo({ "empty/": "" });
  writeFileSync(join(r.root, "empty", "late.py"), "");
  assert.ok((await seen(r)).paths.includes("empty/late.py"));
});

test("an ignored file added to the index (git add -f) and then removed from it", async () => {
  const r = await repo();
  git(r.root, "add", "-f", "build/out.bin");
  assert.ok((await seen(r)).paths.includes("build/out.bin"));
  settle(join(r.root, ".git", "index"));
  await r.select();
  git(r.root, "rm", "-q", "--cached", "build/out.bin");
  assert.ok(!(await seen(r)).paths.includes("build/out.bin"));
});

test("a .gitignore edited in place (its directory unchanged)", async () => {
  const r = await repo();
  appendFileSync(join(r.root, ".gitignore"), "notes.txt\n");
  assert.ok(!(await seen(r)).paths.includes("notes.txt"));
});

test("info/exclude edited", async () => {
  const r = await repo();
  mkdirSync(join(r.root, ".git", "info"), { recursive: true });
  appendFileSync(join(r.root, ".git", "info", "exclude"), "notes.txt\n");
  assert.ok(!(await seen(r)).paths.includes("notes.txt"));
});

test("core.excludesFile set in the repository's config, then the file it names edited", async () => {
  const r = await repo();
  const excludes = join(scratchDir("sr-cs-excludes-"), "ignore");
  dirs.push(excludes);
  writeFileSync(excludes, "nothing-here\n");
  git(r.root, "config", "core.excludesFile", excludes);
  assert.deepEqual((await seen(r)).paths, await r.truth());
  assert.equal((await r.select()).reused, true);
  writeFileSync(excludes, "notes.txt\n");
  assert.ok(!(await seen(r)).paths.includes("notes.txt"));
});

test("core.excludesFile set in the global config and in the repository's: the repository's file counts", async () => {
  const xdg = scratchDir("sr-cs-xdg-");
  dirs.push(xdg);
  const [globalFile, repoFile] = [join(xdg, "global-ignore"), join(xdg, "repo-ignore")];
  writeFileSync(globalFile, "nothing-here\n");
  writeFileSync(repoFile, "nothing-here\n");
  mkdirSync(join(xdg, "git"));
  writeFileSync(join(xdg, "git", "config"), `[core]\n\texcludesFile = ${globalFile}\n`);
  process.env["XDG_CONFIG_HOME"] = xdg;
  try {
    const r = await repo();
    git(r.root, "config", "core.excludesFile", repoFile);
    await seen(r);
    settle(repoFile);
    await r.select();
    writeFileSync(repoFile, "notes.txt\n");
    assert.ok(!(await seen(r)).paths.includes("notes.txt"));
  } finally {
    delete process.env["XDG_CONFIG_HOME"];
  }
});

test("the global excludes file under XDG_CONFIG_HOME appearing", async () => {
  const xdg = scratchDir("sr-cs-xdg-");
  dirs.push(xdg);
  process.env["XDG_CONFIG_HOME"] = xdg;
  try {
    const r = await repo();
    mkdirSync(join(xdg, "git"));
    writeFileSync(join(xdg, "git", "ignore"), "notes.txt\n");
    assert.ok(!(await seen(r)).paths.includes("notes.txt"));
  } finally {
    delete process.env["XDG_CONFIG_HOME"];
  }
});

test("another GIT_* environment is another key", async () => {
  const r = await repo();
  process.env["GIT_CEILING_DIRECTORIES"] = "/nonexistent";
  try {
    assert.equal((await r.select()).reused, false);
  } finally {
    delete process.env["GIT_CEILING_DIRECTORIES"];
  }
});

test("a nested repository is warned about on every sync, reused or not; files appearing in it are not listed", async () => {
  const r = await repo({ "vendor/lib/x.py": "" });
  gitInit(join(r.root, "vendor/lib"));
  settle(join(r.root, "vendor/lib")); // so that the listing after the change is kept
  const listed = await seen(r);
  assert.ok(listed.warnings.some((w) => w.includes("vendor/lib/ is a separate git repository")), String(listed.warnings));
  const reused = await r.select();
  assert.equal(reused.reused, true);
  assert.deepEqual(reused.warnings, listed.warnings);
  writeFileSync(join(r.root, "vendor/lib", "y.py"), "");
  assert.deepEqual((await r.select()).paths, await r.truth());
});

test("a cache whose git part is corrupt is listed afresh", async () => {
  const r = await repo();
  const file = join(r.cacheDir, "codesync-selection.json");
  const cache = JSON.parse(readFileSync(file, "utf8"));
  cache.git.index = ["/x", "not a number", 0, 0];
  writeFileSync(file, JSON.stringify(cache));
  assert.equal((await r.select()).reused, false);
});

test("a tree with more entries than the walk may read is not stamped, and is listed by git alone for a day", async () => {
  const r = await repo();
  const skipNone = () => false;
  assert.ok(stampTree(r.root, skipNone), "within the budget: stamped");
  assert.equal(stampTree(r.root, skipNone, 3), null);
  const cache = new SelectionCache(r.cacheDir, r.root, [], true);
  cache.markTooLarge();
  assert.equal(cache.tooLarge(), true);
  assert.equal(cache.tooLarge(Date.now() + 25 * 3600_000), false, "tried again after a day");
  const listed = await r.select();
  assert.equal(listed.reused, false);
  assert.deepEqual(listed.paths, await r.truth());
  assert.equal(new SelectionCache(r.cacheDir, r.root, [], true).tooLarge(), true, "the mark is kept while it holds");
});
