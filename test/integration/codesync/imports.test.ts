// The import check, run by a real Python over a small package.
import assert from "node:assert/strict";
import { rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { checkImports, formatImportWarning } from "../../../src/codesync/imports.js";
import { reachablePaths, selectFiles } from "../../../src/codesync/select.js";
import { makeTree } from "../../unit/codesync/tree.js";

const root = makeTree({
  ".gitignore": "pkg/secret.py\nhelpers/\nunused.py\n",
  "main.py": "import os\nimport numpy\nfrom pkg import util\nfrom pkg.sub import deep\n\ndef run():\n    return util.f()\n",
  "pkg/__init__.py": "",
  "pkg/util.py": "import importlib\nfrom . import secret\n\ndef f():\n    return importlib.import_module('plugins.' + 'x')\n",
  "pkg/secret.py": "X = 1\n",
  "pkg/sub/__init__.py": "",
  "pkg/sub/deep.py": "from ..other import thing\nimport helpers.tools\nm = __import__('json')\n",
  "pkg/other.py": "thing = 1\n",
  "helpers/__init__.py": "",
  "helpers/tools.py": "",
  "unused.py": "",
});
after(() => rmSync(root, { recursive: true, force: true }));

test("the import check names missing project modules and lists dynamic imports", async () => {
  const selection = await selectFiles({ root });
  const selected = selection.files.map((f) => f.path);
  assert.ok(!selected.includes("pkg/secret.py"));
  const warnings = checkImports({ python: "python3", root, entryFile: "main.py", selected });
  const missing = warnings.filter((w) => w.kind === "missing").map((w) => `${w.file}:${w.line} ${w.module} ${w.path}`);
  assert.deepEqual(missing.sort(), ["pkg/sub/deep.py:2 helpers helpers/__init__.py", "pkg/util.py:2 pkg.secret pkg/secret.py"]);
  const dynamic = warnings.filter((w) => w.kind === "dynamic").map((w) => `${w.file}:${w.line} ${w.module}`);
  assert.deepEqual(dynamic.sort(), ["pkg/sub/deep.py:3 json", "pkg/util.py:5 'plugins.' + 'x'"]);
  assert.match(formatImportWarning(warnings.find((w) => w.module === "pkg.secret")!), /^pkg\/util\.py:2: imports pkg\.secret, but pkg\/secret\.py is not shipped/);
});

test("with every module selected there is nothing missing", () => {
  const all = ["main.py", "pkg/__init__.py", "pkg/util.py", "pkg/secret.py", "pkg/sub/__init__.py", "pkg/sub/deep.py", "pkg/other.py", "helpers/__init__.py", "helpers/tools.py"];
  const warnings = checkImports({ python: "python3", root, entryFile: "main.py", selected: all });
  assert.deepEqual(warnings.filter((w) => w.kind === "missing"), []);
});

test("a missing interpreter is a clear input error", () => {
  assert.throws(() => checkImports({ python: "/nonexistent/python", root, entryFile: "main.py", selected: [] }), /import check could not run with \/nonexistent\/python/);
});

test("a module reached through a shipped symlink to a project dir is not reported missing", async () => {
  const linked = makeTree({ "main.py": "from alias import m\nfrom realdir import n\n", "realdir/m.py": "X = 1\n", "realdir/n.py": "" });
  try {
    symlinkSync("realdir", join(linked, "alias"));
    const selection = await selectFiles({ root: linked });
    assert.deepEqual(selection.files.map((f) => f.path).sort(), ["main.py", "realdir/m.py", "realdir/n.py"]);
    assert.deepEqual(reachablePaths(selection).sort(), ["alias/m.py", "alias/n.py", "main.py", "realdir/m.py", "realdir/n.py"]);
    const warnings = checkImports({ python: "python3", root: linked, entryFile: "main.py", selected: reachablePaths(selection) });
    assert.deepEqual(warnings, []);
    assert.equal(checkImports({ python: "python3", root: linked, entryFile: "main.py", selected: selection.files.map((f) => f.path) }).length, 1, "the files alone miss alias/m.py");
  } finally {
    rmSync(linked, { recursive: true, force: true });
  }
});
