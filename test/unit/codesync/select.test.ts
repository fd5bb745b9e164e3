import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { decodeName, encodeName } from "../../../src/codesync/names.js";
import { selectFiles } from "../../../src/codesync/select.js";
import { git, gitInit, link, makeTree, writeTree } from "./tree.js";

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
function tree(files: Record<string, string>): string {
  const root = makeTree(files);
  roots.push(root);
  return root;
}

/** Every file under root (not .git), relative. */
function allFiles(root: string, rel = ""): string[] {
  return readdirSync(encodeName(join(root, rel)), { withFileTypes: true, encoding: "buffer" }).flatMap((e) => {
    const name = decodeName(e.name);
    const path = rel ? `${rel}/${name}` : name;
    if (name === ".git") return [];
    return e.isDirectory() ? allFiles(root, path) : [path];
  });
}

/** What `git check-ignore` says is NOT ignored, among all files of the tree. */
function gitKept(root: string): string[] {
  const files = allFiles(root);
  let out: Buffer = Buffer.alloc(0);
  try {
    out = execFileSync("git", ["-C", root, "check-ignore", "--no-index", "-z", "--stdin"], {
      input: Buffer.concat(files.map((f) => Buffer.concat([encodeName(f), Buffer.from([0])]))),
    });
  } catch (error) {
    out = (error as { stdout: Buffer }).stdout; // exit 1: nothing ignored
  }
  const ignored = new Set(out.toString("latin1").split("\0").filter(Boolean).map((p) => decodeName(Buffer.from(p, "latin1"))));
  return files.filter((f) => !ignored.has(f)).sort();
}

const selected = async (root: string, extra: Parameters<typeof selectFiles>[0] | object = {}) =>
  (await selectFiles({ root, ...extra })).files.map((f) => f.path);

// Each row: the ignore files and the tree; the selection must equal git check-ignore's verdicts.
const TABLE: { name: string; files: Record<string, string> }[] = [
  {
    name: "globs, negation, directory patterns, anchoring, **",
    files: {
      ".gitignore": "*.log\n!keep.log\nbuild/\n/anchored.txt\ndocs/**/*.tmp\na/**/b\n*.o\nonlydir/\n\\#hash\nname\\ \n",
      "x.log": "",
      "keep.log": "",
      "sub/y.log": "",
      "sub/keep.log": "",
      "build/out.bin": "",
      "src/build/deep.bin": "",
      "build.txt": "",
      "anchored.txt": "",
      "sub/anchored.txt": "",
      "docs/x.tmp": "",
      "docs/p/q/x.tmp": "",
      "docs/p/x.md": "",
      "a/b": "",
      "a/x/y/b": "",
      "a/x/c": "",
      "m.o": "",
      "onlydir": "",
      "z/onlydir/f": "",
      "#hash": "",
      "name ": "",
      "name": "",
    },
  },
  {
    name: "nested .gitignore files and negations across files",
    files: {
      ".gitignore": "build/\n*.tmp\nsecret*\n",
      "sub/.gitignore": "!build/\n!keep.tmp\nlocal-only\n",
      "sub/build/x.o": "",
      "build/y.o": "",
      "sub/keep.tmp": "",
      "sub/drop.tmp": "",
      "sub/local-only": "",
      "local-only": "",
      "deep/er/.gitignore": "*\n!.gitignore\n!keep-me\n",
      "deep/er/keep-me": "",
      "deep/er/gone": "",
      "secret.txt": "",
      "sub/inner/.gitignore": "!secret2\n",
      "sub/inner/secret2": "",
      "sub/inner/secret3": "",
    },
  },
  {
    name: "a re-included file under an excluded directory stays excluded",
    files: {
      ".gitignore": "data/\n!data/keep.csv\nlogs/*\n!logs/keep.txt\n",
      "data/keep.csv": "",
      "data/x.csv": "",
      "logs/keep.txt": "",
      "logs/other.txt": "",
      "ok.py": "",
    },
  },
];

describe("selection follows .gitignore exactly (vs git check-ignore)", () => {
  for (const row of TABLE) {
    test(`${row.name}: outside git (ignore rules) and inside git (ls-files)`, async () => {
      const root = tree(row.files);
      const walked = await selected(root);
      gitInit(root);
      const expected = gitKept(root);
      assert.deepEqual(walked, expected, "walker (non-git directory) differs from git check-ignore");
      assert.deepEqual(await selected(root), expected, "git mode differs from git check-ignore");
      assert.ok(expected.length < allFiles(root).length, "the row ignores something");
    });
  }

  test(".git/info/exclude applies inside git", async () => {
    const root = tree({ "a.py": "", "b.py": "" });
    gitInit(root);
    writeTree(root, { ".git/info/exclude": "b.py\n" });
    assert.deepEqual(await selected(root), ["a.py"]);
  });

  test("tracked files are shipped even when ignored; deleted tracked files are not", async () => {
    const root = tree({ "a.py": "", "t.log": "", "gone.py": "" });
    gitInit(root);
    git(root, "add", "-A");
    git(root, "commit", "-qm", "x");
    writeTree(root, { ".gitignore": "*.log\n" });
    rmSync(join(root, "gone.py"));
    assert.deepEqual(await selected(root), [".gitignore", "a.py", "t.log"]);
  });
});

describe("selection rules of slurmray", () => {
  test(".slurmrayignore (nested, with negation) removes files git would keep", async () => {
    const root = tree({
      ".slurmrayignore": "*.csv\nresults/\n",
      "pkg/.slurmrayignore": "!small.csv\n",
      "a.csv": "",
      "pkg/small.csv": "",
      "pkg/big.csv": "",
      "results/r.txt": "",
      "main.py": "",
    });
    assert.deepEqual(await selected(root), [".slurmrayignore", "main.py", "pkg/.slurmrayignore", "pkg/small.csv"]);
  });

  test("config files adds ignored paths and globs; exclude removes", async () => {
    const root = tree({
      ".gitignore": "data/\n*.bin\n",
      "data/config.yaml": "",
      "data/big.h5": "",
      "w/a.bin": "",
      "w/b.bin": "",
      "main.py": "",
      "results/x.txt": "",
      "notes.md": "",
    });
    const paths = await selected(root, { files: ["data/config.yaml", "w/*.bin"], exclude: ["results/", "*.md", "w/b.bin"] });
    assert.deepEqual(paths, [".gitignore", "data/config.yaml", "main.py", "w/a.bin"]);
  });

  test("config files naming a directory ships its files; paths outside the project are refused", async () => {
    const root = tree({ ".gitignore": "data/\n", "data/a.txt": "", "data/sub/b.txt": "" });
    const sel = await selectFiles({ root, files: ["data", "../etc/passwd"] });
    assert.deepEqual(sel.files.map((f) => f.path), [".gitignore", "data/a.txt", "data/sub/b.txt"]);
    assert.match(sel.warnings.join("\n"), /"\.\.\/etc\/passwd" is outside the project/);
  });

  for (const inGit of [false, true]) {
    test(`never .git, virtualenvs, __pycache__, .slurmray, node_modules (${inGit ? "git" : "non-git"})`, async () => {
      const root = tree({
        "main.py": "",
        "env/pyvenv.cfg": "",
        "env/lib/site.py": "",
        "deep/.venv2/pyvenv.cfg": "",
        "deep/.venv2/x.py": "",
        "pkg/__pycache__/m.pyc": "",
        "pkg/m.py": "",
        ".slurmray/cache/x.json": "",
        "node_modules/a/index.js": "",
      });
      if (inGit) gitInit(root);
      const sel = await selectFiles({ root, files: ["env/lib/site.py", "pkg/__pycache__/m.pyc"] });
      assert.deepEqual(sel.files.map((f) => f.path), ["main.py", "pkg/m.py"]);
    });
  }

  test("a path in a merge conflict (listed by git once per stage) is selected once", async () => {
    const root = tree({ "a.py": "base\n", "b.py": "b\n" });
    gitInit(root);
    git(root, "add", "-A");
    git(root, "commit", "-qm", "base");
    git(root, "checkout", "-qb", "other");
    writeTree(root, { "a.py": "other\n" });
    git(root, "commit", "-qam", "other");
    git(root, "checkout", "-q", "-");
    writeTree(root, { "a.py": "mine\n" });
    git(root, "commit", "-qam", "mine");
    assert.throws(() => git(root, "merge", "-q", "other"));
    assert.match(git(root, "ls-files", "-c").toString(), /^a\.py\na\.py\n/, "git lists the conflicted path per stage");
    assert.deepEqual(await selected(root), ["a.py", "b.py"]);
  });

  test("weird names are selected with their exact bytes", async () => {
    const latin1 = decodeName(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x70, 0x79])); // "caf\xe9.py"
    const valid = ["with space.py", "quote'\"s.py", "new\nline.py", "ünï.py", "\uFFFD.py"];
    // git's listing is decoded at once when it is all valid UTF-8, name by name when it is not.
    for (const names of [valid, [...valid, latin1]]) {
      for (const inGit of [false, true]) {
        const root = tree(Object.fromEntries(names.map((n) => [n, n])));
        if (inGit) gitInit(root);
        assert.deepEqual(await selected(root), [...names].sort());
      }
    }
  });

  test("symlinks inside the project are kept as links; outside ones are skipped with a warning", async () => {
    const root = tree({ "pkg/real.py": "", "data/x": "" });
    link(root, "pkg/alias.py", "real.py");
    link(root, "d", "data");
    link(root, "out", "../../etc");
    link(root, "abs", "/etc/hostname");
    const sel = await selectFiles({ root });
    assert.deepEqual(sel.symlinks, [
      { path: "d", target: "data" },
      { path: "pkg/alias.py", target: "real.py" },
    ]);
    assert.deepEqual(sel.skippedLinks.map((l) => l.path), ["abs", "out"]);
    assert.equal(sel.warnings.filter((w) => /outside the project: not shipped/.test(w)).length, 2);
    assert.deepEqual(sel.files.map((f) => f.path), ["data/x", "pkg/real.py"]);
  });
});
