// runner.py's guard of the code tree (store_objects.py: TreeGuard): a shipped file written after it was stored (its
// mtime's tag lost, as after an editor's :w! or a job's chmod and write) fails the job before or whatever its code
// does, and marks the tree for repair; an unchanged or only touched tree runs as before, with builtin, frozen and
// installed modules found as without the guard.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, rmSync, writeFileSync } from "node:fs";
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
`,
  "helper.py": "V = 1\n",
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
