// The cache of the entry check's and the import check's answers, with a real Python. Each interpreter start
// appends to a log (a sitecustomize on PYTHONPATH), so a test sees whether an answer came from the cache or
// from a fresh run; each input the answer depends on gets a test that changing it alone is noticed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { checksCacheFile } from "../../../src/codesync/checks-cache.js";
import { checkImports, functionStatus } from "../../../src/codesync/imports.js";
import { scratchDir } from "../../helpers/scratch.js";
import { makeTree } from "../../unit/codesync/tree.js";

const tools = scratchDir("sr-cc-");
after(() => rmSync(tools, { recursive: true, force: true }));
// A venv with its own copy of the interpreter, so that a test can change the interpreter's file.
execFileSync("python3", ["-m", "venv", "--copies", "--without-pip", join(tools, "venv")]);
const python = join(tools, "venv", "bin", "python");
const log = join(tools, "starts");
writeFileSync(join(tools, "sitecustomize.py"), `with open(${JSON.stringify(log)}, "a") as f:\n    f.write("x")\n`);
process.env["PYTHONPATH"] = tools;

/** A project, its cache dir, and the count of interpreter starts since. */
function setup(files: Record<string, string>) {
  const root = makeTree(files);
  after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(log, "");
  const cacheDir = join(root, ".slurmray", "cache");
  const starts = () => readFileSync(log, "utf8").length;
  const entry = (name = "main") => functionStatus(python, root, "main.py", name, cacheDir);
  const imports = (selected: string[]) => checkImports({ python, root, entryFile: "main.py", selected, cacheDir }).map((w) => `${w.kind} ${w.module}`);
  return { root, cacheDir, starts, entry, imports };
}

const project = {
  "main.py": "from pkg import util\nfrom pkg.tools import *\n\ndef main():\n    return util.f()\n",
  "pkg/__init__.py": "",
  "pkg/util.py": "def f():\n    return 1\n",
  "pkg/tools.py": "def helper():\n    return 2\n",
};
/** The entry check's answer for main.py's `def main():`. */
const DEFINED = { function: "defined", detail: "", parameters: { names: [], required: [], positional_only: [], any: false } };
const all = ["main.py", "pkg/__init__.py", "pkg/util.py", "pkg/tools.py"];

test("a second identical check starts no Python and gives the same answer", () => {
  const p = setup(project);
  assert.deepEqual(p.entry(), DEFINED);
  assert.deepEqual(p.imports(all), []);
  assert.equal(p.starts(), 2);
  assert.deepEqual(p.entry(), DEFINED);
  assert.deepEqual(p.imports(all), []);
  assert.equal(p.starts(), 2);
});

test("an edit of the entry file invalidates the entry check", () => {
  const p = setup(project);
  assert.equal(p.entry().function, "defined");
  writeFileSync(join(p.root, "main.py"), "def mian():\n    return 1\n");
  assert.deepEqual(p.entry(), { function: "missing", detail: "mian", parameters: null });
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

test("a relative root is read from the working dir: another working dir is another answer", () => {
  const p = setup({ "a/main.py": "def main():\n    pass\n", "b/main.py": "def other():\n    pass\n" });
  const cwd = process.cwd();
  try {
    process.chdir(join(p.root, "a"));
    assert.equal(functionStatus(python, ".", "main.py", "main", p.cacheDir).function, "defined");
    process.chdir(join(p.root, "b"));
    assert.equal(functionStatus(python, ".", "main.py", "main", p.cacheDir).function, "missing");
  } finally {
    process.chdir(cwd);
  }
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
  const later = new Date(Date.now() + 60_000);
  utimesSync(python, later, later);
  p.entry();
  p.imports(all);
  assert.equal(p.starts(), 4);
});

test("an interpreter named without a path, a script interpreter, or no cache dir: never cached", () => {
  const p = setup(project);
  const wrapper = join(tools, "wrapper");
  writeFileSync(wrapper, `#!/bin/sh\nexec ${python} "$@"\n`, { mode: 0o755 });
  for (let i = 0; i < 2; i++) {
    functionStatus("python3", p.root, "main.py", "main", p.cacheDir);
    functionStatus(wrapper, p.root, "main.py", "main", p.cacheDir);
    functionStatus(python, p.root, "main.py", "main");
  }
  assert.equal(p.starts(), 6);
  assert.throws(() => readFileSync(checksCacheFile(p.cacheDir)), /ENOENT/);
});

test("a cache dir that cannot be written leaves the answers right, uncached", () => {
  const p = setup(project);
  const blocked = join(p.root, "main.py", "cache");
  assert.deepEqual(functionStatus(python, p.root, "main.py", "main", blocked), DEFINED);
  assert.deepEqual(functionStatus(python, p.root, "main.py", "main", blocked), DEFINED);
  assert.equal(p.starts(), 2);
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
  assert.deepEqual(p.entry(), DEFINED);
  writeFileSync(file, "not json");
  assert.deepEqual(p.entry(), DEFINED);
  assert.equal(p.starts(), 3);
});
