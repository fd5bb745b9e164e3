// The cache of the entry check's and the import check's answers, with a real Python. The interpreter is a
// wrapper that logs each start, so a test sees whether an answer came from the cache or from a fresh run; each
// input the answer depends on gets a test that changing it alone is noticed.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { checksCacheFile } from "../../../src/codesync/checks-cache.js";
import { checkImports, functionStatus } from "../../../src/codesync/imports.js";
import { makeTree } from "../../unit/codesync/tree.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A project, its cache dir, and an interpreter that counts its starts. */
function setup(files: Record<string, string>) {
  const root = makeTree(files);
  const tools = mkdtempSync(join(tmpdir(), "sr-cc-"));
  dirs.push(root, tools);
  const log = join(tools, "starts");
  const python = join(tools, "python");
  writeFileSync(log, "");
  writeFileSync(python, `#!/bin/sh\necho x >> '${log}'\nexec python3 "$@"\n`);
  chmodSync(python, 0o755);
  const cacheDir = join(root, ".slurmray", "cache");
  const starts = () => readFileSync(log, "utf8").length / 2;
  const entry = (name = "main", py = python) => functionStatus(py, root, "main.py", name, cacheDir);
  const imports = (selected: string[], py = python) =>
    checkImports({ python: py, root, entryFile: "main.py", selected, cacheDir }).map((w) => `${w.kind} ${w.module}`);
  return { root, python, cacheDir, starts, entry, imports };
}

const project = {
  "main.py": "from pkg import util\nfrom pkg.tools import *\n\ndef main():\n    return util.f()\n",
  "pkg/__init__.py": "",
  "pkg/util.py": "def f():\n    return 1\n",
  "pkg/tools.py": "def helper():\n    return 2\n",
};
const all = ["main.py", "pkg/__init__.py", "pkg/util.py", "pkg/tools.py"];

test("a second identical check starts no Python and gives the same answer", () => {
  const p = setup(project);
  assert.deepEqual(p.entry(), { function: "defined", detail: "" });
  assert.deepEqual(p.imports(all), []);
  assert.equal(p.starts(), 2);
  assert.deepEqual(p.entry(), { function: "defined", detail: "" });
  assert.deepEqual(p.imports(all), []);
  assert.equal(p.starts(), 2);
});

test("an edit of the entry file invalidates the entry check", () => {
  const p = setup(project);
  assert.equal(p.entry().function, "defined");
  writeFileSync(join(p.root, "main.py"), "def mian():\n    return 1\n");
  assert.deepEqual(p.entry(), { function: "missing", detail: "mian" });
  assert.equal(p.starts(), 2);
});

test("an edit of a star-imported project file invalidates the entry check", () => {
  const p = setup(project);
  assert.equal(p.entry("helper").function, "defined");
  writeFileSync(join(p.root, "pkg", "tools.py"), "def other():\n    return 2\n");
  assert.equal(p.entry("helper").function, "missing");
  assert.equal(p.starts(), 2);
});

test("another function name is another answer", () => {
  const p = setup(project);
  assert.equal(p.entry("main").function, "defined");
  assert.equal(p.entry("nope").function, "missing");
  assert.equal(p.starts(), 2);
});

test("an edit of a followed project file invalidates the import check", () => {
  const p = setup({ ...project, "pkg/secret.py": "X = 1\n" });
  assert.deepEqual(p.imports(all), []);
  writeFileSync(join(p.root, "pkg", "util.py"), "from . import secret\n");
  assert.deepEqual(p.imports(all), ["missing pkg.secret"]);
  assert.equal(p.starts(), 2);
});

test("another selected set is another answer", () => {
  const p = setup(project);
  assert.deepEqual(p.imports(all), []);
  assert.deepEqual(p.imports(all.filter((f) => f !== "pkg/util.py")), ["missing pkg.util"]);
  assert.deepEqual(p.imports(all), []);
  assert.equal(p.starts(), 2, "both answers are kept");
});

test("a module file created where an import looked, or removed, invalidates the import check", () => {
  const p = setup({ ...project, "main.py": "import numpy\n\ndef main():\n    return 1\n" });
  assert.deepEqual(p.imports(all), []);
  writeFileSync(join(p.root, "numpy.py"), "");
  assert.deepEqual(p.imports(all), ["missing numpy"]);
  unlinkSync(join(p.root, "numpy.py"));
  assert.deepEqual(p.imports(all), []);
  assert.equal(p.starts(), 3);
});

test("a module file created where a star import looked invalidates the entry check", () => {
  const p = setup({ ...project, "main.py": "from extra import *\n" });
  assert.equal(p.entry("helper").function, "star");
  writeFileSync(join(p.root, "extra.py"), "def helper():\n    return 1\n");
  assert.equal(p.entry("helper").function, "defined");
  assert.equal(p.starts(), 2);
});

test("a changed interpreter invalidates both checks", () => {
  const p = setup(project);
  p.entry();
  p.imports(all);
  writeFileSync(p.python, `${readFileSync(p.python, "utf8")}# another build\n`);
  p.entry();
  p.imports(all);
  assert.equal(p.starts(), 4);
});

test("an interpreter named without a path, or no cache dir, is never cached", () => {
  const p = setup(project);
  functionStatus("python3", p.root, "main.py", "main", p.cacheDir);
  functionStatus(p.python, p.root, "main.py", "main");
  functionStatus(p.python, p.root, "main.py", "main");
  assert.equal(p.starts(), 2);
  assert.throws(() => readFileSync(checksCacheFile(p.cacheDir)), /ENOENT/);
});

test("an answer from a file that could not be read is not cached", () => {
  const p = setup({ "main.py/": "" });
  assert.equal(p.entry().function, "unparsable");
  assert.equal(p.entry().function, "unparsable");
  assert.equal(p.starts(), 2);
});

test("a tampered cache is not trusted: a wrong answer shape is recomputed", () => {
  const p = setup(project);
  p.entry();
  const file = checksCacheFile(p.cacheDir);
  const entries = JSON.parse(readFileSync(file, "utf8")) as { answer: Record<string, unknown> }[];
  entries[0]!.answer = { function: "sure" };
  writeFileSync(file, JSON.stringify(entries));
  assert.deepEqual(p.entry(), { function: "defined", detail: "" });
  writeFileSync(file, "not json");
  assert.deepEqual(p.entry(), { function: "defined", detail: "" });
  assert.equal(p.starts(), 3);
});
