// runner.py's guard of the code tree (store_objects.py: TreeGuard): a shipped file written after it was stored (its
// mtime's tag lost, as after an editor's :w! or a job's chmod and write), imported or opened, fails the job whatever
// its code does, and marks the tree for repair; an unchanged or only touched tree runs as before, with builtin,
// frozen and installed modules found as without the guard, and the job's own files are not checked.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { storeScript } from "../../../src/codesync/store.js";
import { scratchDir } from "../../helpers/scratch.js";
import { job, removeJobDirs, runRunner } from "./harness.js";

const trees = scratchDir("srguard-");
after(() => {
  execFileSync("chmod", ["-R", "u+w", trees]);
  rmSync(trees, { recursive: true, force: true });
  removeJobDirs();
});

const FILES = {
  "entry.py": `import importlib.metadata, importlib.util, os

def run():
    import helper
    open(os.path.join("outputs", "ran"), "w").close()
    return {"v": helper.V, "frozen": importlib.util.find_spec("__hello__").origin,
            "distributions": len(list(importlib.metadata.distributions())) > 0}

def caught():
    try:
        import helper
        return helper.V
    except Exception as e:
        return "caught " + type(e).__name__

def read_relative():
    return open("data/t.csv").read()

def read_path():
    import pathlib
    return pathlib.Path("data/t.csv").read_text()

def read_absolute():
    try:
        return open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "t.csv")).read()
    except Exception as e:
        return "caught " + type(e).__name__

def force_write():
    os.chmod("helper.py", 0o644)
    with open("helper.py", "w") as f:
        f.write("V = 2\\n")

def own_files():
    with open("outputs/o.txt", "w") as f:
        f.write("mine")
    return [open("outputs/o.txt").read(), open("/etc/hostname").read() != ""]
`,
  "helper.py": "V = 1\n",
  "data/t.csv": "a,1\n",
};

let count = 0;

/** A code tree as the store makes it: files read-only with tagged mtimes, and its manifest beside it. */
function tree(): string {
  const dir = join(trees, `t${++count}`);
  const code = `import sys, json, os, hashlib, time
g = {"__name__": "codestore"}
exec(sys.argv[1], g)
tree, records = sys.argv[2], {}
for rel, text in json.loads(sys.argv[3]).items():
    data = text.encode()
    key = hashlib.sha256(data).hexdigest()
    path = os.path.join(tree, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    mtime = int(time.time()) * g["NS"] + g["tag"](key)
    os.utime(path, ns=(mtime, mtime))
    os.chmod(path, 0o444)
    records[rel.encode()] = b"f" + key.encode() + b" " + rel.encode() + b"\\0"
with open(tree + ".manifest", "wb") as f:
    f.write(g["manifest_bytes"](records))`;
  execFileSync("python3", ["-c", code, storeScript(), dir, JSON.stringify(FILES)]);
  return dir;
}

/** What an editor's :w! does to a read-only file its user owns: made writable, written, made read-only again. */
function editInPlace(path: string, content: string): void {
  chmodSync(path, 0o644);
  writeFileSync(path, content);
  chmodSync(path, 0o444);
}

describe("runner guard of the code tree", () => {
  test("an unchanged tree runs; builtin, frozen and installed modules are found as without the guard", async () => {
    const code = tree();
    const run = await runRunner(job("entry.py:run", { code_dir: code }));
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(run.json("result.json"), { value: { v: 1, frozen: "frozen", distributions: true } });
    assert.ok(!existsSync(`${code}.tainted`));
  });

  test("an imported module written after it was stored fails the job even when its code catches that, and marks the tree", async () => {
    const code = tree();
    editInPlace(join(code, "helper.py"), "V = 2\n");
    const run = await runRunner(job("entry.py:caught", { code_dir: code }));
    assert.equal(run.code, 1, run.log());
    assert.equal(run.has("result.json"), false);
    const error = run.json("error.json") as { type: string; message: string };
    assert.equal(error.type, "ChangedCode");
    assert.match(error.message, /changed after they were shipped: helper\.py .*Run the job again/);
    assert.ok(existsSync(`${code}.tainted`));
  });

  test("a changed data file is refused when the job opens it, through its working dir or into the tree, even when its code catches that", async () => {
    const code = tree();
    editInPlace(join(code, "data", "t.csv"), "a,2\n");
    for (const entry of ["entry.py:read_relative", "entry.py:read_absolute", "entry.py:read_path"]) {
      const run = await runRunner(job(entry, { code_dir: code }));
      assert.equal(run.code, 1, run.log());
      const error = run.json("error.json") as { type: string; message: string };
      assert.equal(error.type, "ChangedCode", entry);
      assert.match(error.message, /changed after they were shipped: data\/t\.csv /, entry);
    }
  });

  test("a job that makes a shipped file writable and opens it to write is refused: the open's check makes it read-only again", async () => {
    const code = tree();
    const run = await runRunner(job("entry.py:force_write", { code_dir: code }));
    assert.equal(run.code, 1, run.log());
    assert.match((run.json("error.json") as { message: string }).message, /Permission denied.*shipped files are read-only/);
    assert.equal(readFileSync(join(code, "helper.py"), "utf8"), "V = 1\n");
  });

  test("the job's own outputs and files outside the tree are not checked; unchanged shipped data reads", async () => {
    const code = tree();
    const own = await runRunner(job("entry.py:own_files", { code_dir: code }));
    assert.equal(own.code, 0, own.log());
    assert.deepEqual(own.json("result.json"), { value: ["mine", true] });
    const data = await runRunner(job("entry.py:read_relative", { code_dir: code }));
    assert.deepEqual(data.json("result.json"), { value: "a,1\n" });
  });

  test("a changed entry file fails the job before any of it runs", async () => {
    const code = tree();
    editInPlace(join(code, "entry.py"), `${FILES["entry.py"]}\nopen("outputs/imported", "w").close()\n`);
    const run = await runRunner(job("entry.py:run", { code_dir: code }));
    assert.equal(run.code, 1, run.log());
    assert.equal((run.json("error.json") as { type: string }).type, "ChangedCode");
    assert.equal(existsSync(join(run.dir, "outputs", "imported")), false);
  });

  test("a module only touched (its mtime changed, not its bytes) runs", async () => {
    const code = tree();
    execFileSync("touch", ["-m", join(code, "helper.py"), join(code, "entry.py")]);
    const run = await runRunner(job("entry.py:run", { code_dir: code }));
    assert.equal(run.code, 0, run.log());
    assert.equal((run.json("result.json") as { value: { v: number } }).value.v, 1);
    assert.ok(!existsSync(`${code}.tainted`));
  });

  test("a code dir that is not one of the store's trees (no manifest beside it) is not checked", async () => {
    const code = tree();
    rmSync(`${code}.manifest`);
    editInPlace(join(code, "helper.py"), "V = 3\n");
    const run = await runRunner(job("entry.py:run", { code_dir: code }));
    assert.equal(run.code, 0, run.log());
    assert.equal((run.json("result.json") as { value: { v: number } }).value.v, 3);
  });
});
