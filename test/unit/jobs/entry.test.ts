// Entry parsing: the three forms, and every malformed entry refused with a message before anything runs.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseEntry, runnerEntry } from "../../../src/jobs/entry.js";
import { InputError } from "../../../src/util/errors.js";
import { scratchDir } from "../../helpers/scratch.js";

const root = scratchDir("srentry-");
mkdirSync(join(root, "pkg", "sub"), { recursive: true });
writeFileSync(join(root, "main.py"), "def main(): pass\n");
writeFileSync(join(root, "pkg", "sub", "train.py"), "def fit(): pass\n");

describe("entry parsing", () => {
  const good: [string, string, object, string][] = [
    ["main.py:main", root, { kind: "file", file: "main.py", function: "main" }, "main.py:main"],
    ["pkg/sub/train.py:fit", root, { kind: "file", file: "pkg/sub/train.py", function: "fit" }, "pkg/sub/train.py:fit"],
    ["train.py:fit", join(root, "pkg", "sub"), { kind: "file", file: "pkg/sub/train.py", function: "fit" }, "pkg/sub/train.py:fit"],
    ["pkg.sub.train:fit", root, { kind: "module", module: "pkg.sub.train", function: "fit" }, "pkg.sub.train:fit"],
    ["main.py", root, { kind: "script", file: "main.py" }, "main.py"],
    ["./main.py", root, { kind: "script", file: "main.py" }, "main.py"],
  ];
  for (const [raw, cwd, expected, forRunner] of good) {
    it(`parses ${raw}`, () => {
      const entry = parseEntry(raw, cwd, root);
      assert.deepEqual(entry, expected);
      assert.equal(runnerEntry(entry), forRunner);
    });
  }

  const bad: [string, string][] = [
    ["", 'entry "": expected path/to/file.py:function, package.module:function, or path/to/script.py'],
    ["main", 'entry "main": expected path/to/file.py:function, package.module:function, or path/to/script.py'],
    ["main.py:", 'entry "main.py:": "" is not a Python function name'],
    ["main.py:2x", 'entry "main.py:2x": "2x" is not a Python function name'],
    ["main.py:a-b", 'entry "main.py:a-b": "a-b" is not a Python function name'],
    ["pkg..mod:f", 'entry "pkg..mod:f": "pkg..mod" is neither a .py file nor a module name; expected path/to/file.py:function, package.module:function, or path/to/script.py'],
    ["pkg/mod:f", 'entry "pkg/mod:f": "pkg/mod" is neither a .py file nor a module name; expected path/to/file.py:function, package.module:function, or path/to/script.py'],
    ["nope.py:f", `entry "nope.py:f": no such file ${join(root, "nope.py")}`],
    ["../outside.py:f", `entry "../outside.py:f": the file is outside the project ${root}; move it into the project or run from its folder`],
    ["pkg:f\n", 'entry "pkg:f\\n": expected path/to/file.py:function, package.module:function, or path/to/script.py'],
  ];
  for (const [raw, message] of bad) {
    it(`refuses ${JSON.stringify(raw)}`, () => {
      assert.throws(() => parseEntry(raw, root, root), (error: unknown) => error instanceof InputError && error.message === message);
    });
  }
});
