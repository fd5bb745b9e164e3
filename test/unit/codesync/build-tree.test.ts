// codestore.py's build_tree, run by the local python3: a tree of real dirs (0500) holding hard links to the
// store's objects, whatever order directories come back in (a/x, a/b/y, a/z reopens a), with symlinks,
// executables, missing or untrustworthy objects and unsafe paths handled. And derive_tree: the tree of a
// new manifest made from the spare of the base's tree by changing only what differs must be exactly the
// tree a full build makes, use the spare when there is one, and refuse a delta that would link through a
// symlink, leaving no tree and nothing outside.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { storeScript } from "../../../src/codesync/store.js";
import { scratchDir } from "../../helpers/scratch.js";

const base = scratchDir("sr-bt-");
const store = join(base, "objects");
const trees = join(base, "trees");
mkdirSync(store, { mode: 0o700 });
mkdirSync(trees, { mode: 0o700 });
after(() => {
  execFileSync("chmod", ["-R", "u+w", base]);
  rmSync(base, { recursive: true, force: true });
});

/** The nanoseconds store_objects.py gives a stored object's mtime: a tag of its hash, odd. */
const tagOf = (key: string): number => (Number.parseInt(key.slice(0, 8), 16) % 500_000_000) * 2 + 1;

/** Sets a file's mtime to this second plus `ns` nanoseconds (GNU touch keeps all nine digits). */
function setMtimeNs(path: string, ns: number): void {
  execFileSync("touch", ["-m", "-d", `@${Math.floor(Date.now() / 1000)}.${String(ns).padStart(9, "0")}`, path]);
}

/** Stores content as an object (read-only and tagged once "checked", as apply leaves it) and returns its key. */
function object(content: string, executable = false, mode = executable ? 0o555 : 0o444): string {
  const key = createHash("sha256").update(content).digest("hex") + (executable ? "x" : "");
  if (existsSync(join(store, key))) return key;
  writeFileSync(join(store, key), content);
  setMtimeNs(join(store, key), tagOf(key));
  chmodSync(join(store, key), mode);
  return key;
}

/**
 * Runs build_tree(store, trees, id, records) with records given as [kind, key or target hash, path, link target?],
 * linked by `threads` threads (by default as many as the build would choose).
 */
function build(id: string, records: [string, string, string, string?][], threads?: number): string {
  const code = `import sys, json
g = {"__name__": "codestore"}
exec(sys.argv[1], g)
if sys.argv[4]:
    g["link_threads"] = lambda count: int(sys.argv[4])
records = {}
for kind, key, path, target in json.loads(sys.argv[3]):
    p = path.encode()
    records[p] = kind.encode() + key[:64].encode() + b" " + p + b"\\0" + ((target.encode() + b"\\0") if target else b"")
try:
    print(json.dumps(g["build_tree"]("${store}", "${trees}", sys.argv[2], records)))
except ValueError as e:
    print(json.dumps(str(e)))`;
  return execFileSync("python3", ["-c", code, storeScript(), id, JSON.stringify(records.map(([kind, key, path, target]) => [kind, key, path, target ?? ""])), String(threads ?? "")], { encoding: "utf8" }).trim();
}

test("a tree holds real dirs (0500) of hard links to the objects, in any directory order, with links and executables", () => {
  const [a, b, c, x] = [object("a"), object("b"), object("c"), object("#!/bin/sh\n", true)];
  const out = build("t1", [
    ["f", a, "pkg/a.py"],
    ["f", b, "pkg/b/deep/y.py"],
    ["f", c, "pkg/z.py"],
    ["x", x, "run.sh"],
    ["l", "0".repeat(64), "pkg/b/link.py", "../a.py"],
    ["f", a, "top.py"],
  ]);
  assert.equal(out, "[]");
  const tree = join(trees, "t1");
  for (const [path, key] of [["pkg/a.py", a], ["pkg/b/deep/y.py", b], ["pkg/z.py", c], ["run.sh", x], ["top.py", a]] as const) {
    assert.equal(statSync(join(tree, path)).ino, statSync(join(store, key)).ino, path);
  }
  assert.equal(statSync(join(tree, "run.sh")).mode & 0o777, 0o555);
  assert.equal(readlinkSync(join(tree, "pkg/b/link.py")), "../a.py");
  for (const dir of ["", "pkg", "pkg/b", "pkg/b/deep"]) {
    const st = lstatSync(join(tree, dir));
    assert.ok(st.isDirectory() && !st.isSymbolicLink(), dir);
    assert.equal(st.mode & 0o777, 0o500, dir);
  }
});

test("a missing or partial object is reported missing and leaves no tree", () => {
  const good = object("good");
  const writable = object("partial", false, 0o600);
  writeFileSync(join(store, writable), "part"); // a write cut short: its bytes are not its hash's
  const out = build("t2", [
    ["f", good, "ok.py"],
    ["f", writable, "sub/partial.py"],
    ["f", "f".repeat(64), "sub/gone.py"],
  ]);
  assert.deepEqual(JSON.parse(out).sort(), [writable, "f".repeat(64)].sort());
  assert.throws(() => lstatSync(join(trees, "t2")));
  assert.deepEqual(execFileSync("ls", ["-A", trees], { encoding: "utf8" }).split("\n").filter((n) => n.startsWith(".build")), []);
});

test("a path that could leave the tree is refused", () => {
  const key = object("evil");
  for (const path of ["../out.py", "a/../../out.py", "/abs.py", "a//b.py", "./a.py"]) {
    assert.match(build("t3", [["f", key, path]]), /refused the path/, path);
  }
  assert.throws(() => lstatSync(join(trees, "t3")));
});

test("several threads link slices of the paths: every file of every dir is linked, and objects missing from any slice are all reported", () => {
  const keys = Array.from({ length: 40 }, (_, i) => object(`file ${i}`));
  const records = keys.map((key, i): [string, string, string] => ["f", key, `d${i % 7}/sub${i % 3}/f${i}.py`]);
  assert.equal(build("t4", records, 3), "[]");
  for (const [, key, path] of records) assert.equal(statSync(join(trees, "t4", path)).ino, statSync(join(store, key)).ino, path);
  for (const dir of ["d0", "d6/sub2"]) assert.equal(lstatSync(join(trees, "t4", dir)).mode & 0o777, 0o500, dir);
  const gone = ["a", "b", "c"].map((c) => c.repeat(64));
  const withGaps = [...records.slice(0, 5), ["f", gone[0]!, "d0/x.py"], ...records.slice(5, 30), ["f", gone[1]!, "d5/y.py"], ...records.slice(30), ["f", gone[2]!, "z.py"]] as [string, string, string][];
  assert.deepEqual(JSON.parse(build("t5", withGaps, 3)).sort(), gone);
  assert.throws(() => lstatSync(join(trees, "t5")));
  assert.deepEqual(execFileSync("ls", ["-A", trees], { encoding: "utf8" }).split("\n").filter((n) => n.startsWith(".build")), []);
});

type Rec = [kind: string, key: string, path: string, target?: string];

const LINK = "0".repeat(64);

/**
 * Runs codestore.py: `spare` builds the base's tree and its spare; `derive` makes `id` from the base plus
 * the delta (changed records, removed paths); `full` builds `id` from its records alone. Prints the result
 * (missing keys) as JSON, or the refusal's message.
 */
function codestoreArgv(step: "spare" | "derive" | "full", id: string, baseRecords: Rec[], changed: Rec[] = [], removed: string[] = []): string[] {
  const code = `import sys, json
g = {"__name__": "codestore"}
exec(sys.argv[1], g)
def recs(items):
    out = {}
    for kind, key, path, target in items:
        p = path.encode()
        out[p] = kind.encode() + key[:64].encode() + b" " + p + b"\\0" + ((target.encode() + b"\\0") if target else b"")
    return out
step, new_id, base_id = sys.argv[2], sys.argv[3], "b" * 64
base, changed = recs(json.loads(sys.argv[4])), recs(json.loads(sys.argv[5]))
removed = [p.encode() for p in json.loads(sys.argv[6])]
records = dict(base)
records.update(changed)
for p in removed:
    records.pop(p, None)
try:
    if step == "spare":
        print(json.dumps(g["build_tree"]("${store}", "${trees}", ".spare-" + base_id, base)))
    elif step == "derive":
        print(json.dumps(g["derive_tree"]("${store}", "${trees}", new_id, records, base_id, base, changed, removed)))
    else:
        print(json.dumps(g["build_tree"]("${store}", "${trees}", new_id, records)))
except ValueError as e:
    print(json.dumps(str(e)))`;
  const json = (recs: Rec[]) => JSON.stringify(recs.map(([kind, key, path, target]) => [kind, key, path, target ?? ""]));
  return ["-c", code, storeScript(), step, id, json(baseRecords), json(changed), JSON.stringify(removed)];
}

function codestore(...args: Parameters<typeof codestoreArgv>): string {
  return execFileSync("python3", codestoreArgv(...args), { encoding: "utf8" }).trim();
}

/** codestore(), as a process of its own that runs while others do. */
async function codestoreAsync(...args: Parameters<typeof codestoreArgv>): Promise<string> {
  return (await promisify(execFile)("python3", codestoreArgv(...args), { encoding: "utf8" })).stdout.trim();
}

/** Every entry under a tree: path, kind, mode, and the object's inode or the link's target. */
function snapshot(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, path));
    if (st.isSymbolicLink()) out.push(`l ${path} -> ${readlinkSync(join(dir, path))}`);
    else if (st.isDirectory()) out.push(`d ${path} ${(st.mode & 0o777).toString(8)}`, ...snapshot(dir, path));
    else out.push(`f ${path} ${(st.mode & 0o777).toString(8)} ${st.ino}`);
  }
  return out;
}

const leftovers = () => readdirSync(trees).filter((name) => name.startsWith(".build") || name.startsWith(".spare"));

test("a tree derived from the spare is exactly the full build: changed, added, removed, dir to file, file to dir, links and flags", () => {
  const [a, b, c, d, x] = ["a", "b", "c", "d", "#!/bin/sh\n"].map((s) => object(s));
  const baseRecords: Rec[] = [
    ["f", a!, "keep/a.py"],
    ["f", b!, "keep/deep/b.py"],
    ["f", c!, "edit.py"],
    ["f", a!, "lonely/only.py"],
    ["f", b!, "becomes_file/x.py"],
    ["f", c!, "becomes_dir"],
    ["l", LINK, "link", "keep/a.py"],
    ["l", LINK, "link_to_dir", "keep"],
    ["f", x!, "run.sh"],
  ];
  assert.equal(codestore("spare", "", baseRecords), "[]");
  const keptDir = lstatSync(join(trees, `.spare-${"b".repeat(64)}`, "keep")).ino;
  const changed: Rec[] = [
    ["f", d!, "edit.py"],
    ["f", object("new"), "added/deeper/new.py"],
    ["f", d!, "becomes_file"],
    ["f", a!, "becomes_dir/inside.py"],
    ["l", LINK, "link", "edit.py"],
    ["f", a!, "link_to_dir/now_a_dir.py"],
    ["x", object("#!/bin/sh\n", true), "run.sh"],
  ];
  const removed = ["lonely/only.py", "becomes_file/x.py", "becomes_dir", "link_to_dir"];
  assert.equal(codestore("derive", "derived", baseRecords, changed, removed), "[]");
  assert.equal(codestore("full", "built", [...baseRecords.filter(([, , path]) => !removed.includes(path) && !changed.some(([, , p]) => p === path)), ...changed]), "[]");
  assert.deepEqual(snapshot(join(trees, "derived")), snapshot(join(trees, "built")));
  assert.equal(lstatSync(join(trees, "derived")).mode & 0o777, 0o500);
  // Made from the spare (its unchanged dir is the same inode), which is used up.
  assert.equal(lstatSync(join(trees, "derived", "keep")).ino, keptDir);
  assert.deepEqual(leftovers(), []);
});

test("with no spare the tree is built in full", () => {
  const records: Rec[] = [["f", object("one"), "p/one.py"]];
  assert.deepEqual(leftovers(), []);
  assert.equal(codestore("derive", "nospare", records, [["f", object("two"), "p/two.py"]]), "[]");
  assert.equal(readdirSync(join(trees, "nospare", "p")).sort().join(","), "one.py,two.py");
});

test("a delta that would link through a symlink of the tree is refused: no tree, no spare left, nothing written outside", () => {
  const outside = join(base, "outside");
  mkdirSync(outside, { recursive: true });
  const baseRecords: Rec[] = [
    ["l", LINK, "escape", outside],
    ["f", object("k"), "k.py"],
  ];
  assert.equal(codestore("spare", "", baseRecords), "[]");
  assert.match(codestore("derive", "evil", baseRecords, [["f", object("evil"), "escape/planted.py"]]), /refused the path/);
  assert.deepEqual(readdirSync(outside), []);
  assert.ok(!existsSync(join(trees, "evil")));
  assert.deepEqual(leftovers(), []);
});

test("an object missing from the store is reported, and the spare is dropped with no tree made", () => {
  const baseRecords: Rec[] = [["f", object("m"), "m.py"]];
  assert.equal(codestore("spare", "", baseRecords), "[]");
  assert.deepEqual(JSON.parse(codestore("derive", "gap", baseRecords, [["f", "e".repeat(64), "gone.py"]])), ["e".repeat(64)]);
  assert.ok(!existsSync(join(trees, "gap")));
  assert.deepEqual(leftovers(), []);
});

/** Runs store_objects.py's TreeGuard on trees/<id> over `paths` (relative): what check said of each, and its list of changed files. */
function guard(id: string, paths: string[]): { ok: boolean[]; changed: string[] } {
  const code = `import sys, json, os
g = {"__name__": "codestore"}
exec(sys.argv[1], g)
guard = g["TreeGuard"](sys.argv[2])
ok = [guard.check(os.path.join(sys.argv[2], p)) for p in json.loads(sys.argv[3])]
print(json.dumps({"ok": ok, "changed": guard.changed}))`;
  return JSON.parse(execFileSync("python3", ["-c", code, storeScript(), join(trees, id), JSON.stringify(paths)], { encoding: "utf8" }));
}

/** Writes a manifest for trees/<id> as apply does: the records sorted by path, each kind + key + " " + path + NUL (+ target + NUL). */
function manifest(id: string, records: Rec[]): void {
  const sorted = [...records].sort((a, b) => Buffer.compare(Buffer.from(a[2]), Buffer.from(b[2])));
  writeFileSync(join(trees, `${id}.manifest`), sorted.map(([kind, key, path, target]) => `${kind}${key.slice(0, 64)} ${path}\0${target === undefined ? "" : `${target}\0`}`).join(""));
}

/** What an editor's :w! does to a read-only file its user owns: made writable, written, made read-only again. */
function editInPlace(path: string, content: string): void {
  chmodSync(path, 0o644);
  writeFileSync(path, content);
  chmodSync(path, 0o444);
}

test("a stored object written since is not linked; one only touched or made writable, its bytes the same, is linked and made as stored again; whole seconds (a coarse file system) are trusted", () => {
  const edited = object("edited later");
  editInPlace(join(store, edited), "edited LATER");
  const touched = object("touched");
  setMtimeNs(join(store, touched), 123_000_000);
  const writable = object("left writable", false, 0o644);
  const coarse = object("coarse");
  execFileSync("touch", ["-m", "-d", `@${Math.floor(Date.now() / 1000)}`, join(store, coarse)]);
  assert.deepEqual(JSON.parse(build("t6", [["f", edited, "a.py"], ["f", touched, "b.py"], ["f", writable, "c.py"], ["f", coarse, "d.py"]])), [edited]);
  assert.equal(build("t7", [["f", touched, "b.py"], ["f", writable, "c.py"], ["f", coarse, "d.py"]]), "[]");
  for (const key of [touched, writable]) {
    const st = statSync(join(store, key), { bigint: true });
    assert.equal(Number(st.mtimeNs % 1_000_000_000n), tagOf(key), key);
    assert.equal(Number(st.mode) & 0o777, 0o444, key);
  }
});

test("the guard finds a file written after it was stored and marks the tree tainted; the next build of that tree repairs it", () => {
  const [keep, helper] = [object("keep = 1\n"), object("VALUE = 1\n")];
  const records: Rec[] = [["f", keep, "keep.py"], ["f", helper, "lib/helper.py"], ["l", LINK, "link", "keep.py"]];
  assert.equal(codestore("spare", "", records), "[]");
  const id = "b".repeat(64);
  assert.equal(codestore("full", id, records), "[]");
  manifest(id, records);
  const paths = ["keep.py", "lib/helper.py", "link", "not-shipped.py"];
  assert.deepEqual(guard(id, paths), { ok: [true, true, true, true], changed: [] });
  assert.ok(!existsSync(join(trees, `${id}.tainted`)));

  editInPlace(join(trees, id, "lib", "helper.py"), "VALUE = 2\n"); // the shared object itself changes
  assert.deepEqual(guard(id, paths), { ok: [true, false, true, true], changed: ["lib/helper.py"] });
  assert.ok(existsSync(join(trees, `${id}.tainted`)));
  // The spare of a tree found changed holds the same inodes: no tree is derived from it, and a full build
  // asks for the changed object again.
  assert.deepEqual(JSON.parse(codestore("derive", "from-tainted", records, [["f", object("other"), "other.py"]])), [helper]);
  assert.ok(existsSync(join(trees, `.spare-${id}`)), "the spare was not claimed");
  // The next apply naming the tree repairs it; the changed object is not trusted, so it is asked for again...
  assert.deepEqual(JSON.parse(codestore("full", id, records)), [helper]);
  assert.ok(existsSync(join(trees, `${id}.tainted`)));
  // ...and once it has arrived anew, it takes the changed file's place; the spare (same inodes) is gone.
  chmodSync(join(store, helper), 0o600);
  rmSync(join(store, helper));
  assert.equal(object("VALUE = 1\n"), helper);
  assert.equal(codestore("full", id, records), "[]");
  assert.equal(execFileSync("cat", [join(trees, id, "lib", "helper.py")], { encoding: "utf8" }), "VALUE = 1\n");
  assert.equal(statSync(join(trees, id, "lib", "helper.py")).ino, statSync(join(store, helper)).ino);
  assert.equal(lstatSync(join(trees, id, "lib")).mode & 0o777, 0o500);
  assert.equal(lstatSync(join(trees, id)).mode & 0o777, 0o500);
  assert.ok(!existsSync(join(trees, `${id}.tainted`)));
  assert.ok(!existsSync(join(trees, `.spare-${id}`)));
  assert.deepEqual(guard(id, paths), { ok: [true, true, true, true], changed: [] });
  assert.deepEqual(readdirSync(join(trees, id, "lib")), ["helper.py"]);
  assert.deepEqual(readdirSync(trees).filter((name) => name.startsWith(".old") || name.startsWith(".build")), []);
});

test("a damaged manifest beside a tree, which makes the guard find a change, is written again by the repair", () => {
  const records: Rec[] = [["f", object("kept = 1\n"), "k.py"]];
  const id = "d".repeat(64);
  assert.equal(codestore("full", id, records), "[]");
  manifest(id, [["f", object("something else"), "k.py"]]);
  assert.deepEqual(guard(id, ["k.py"]), { ok: [false], changed: ["k.py"] });
  assert.equal(codestore("full", id, records), "[]");
  assert.ok(!existsSync(join(trees, `${id}.tainted`)));
  assert.equal((statSync(join(trees, `${id}.manifest`)).mode & 0o777).toString(8), "400");
  assert.deepEqual(guard(id, ["k.py"]), { ok: [true], changed: [] });
});

test("two applies repairing one tree at the same instant: one rebuilds it, the other finds it repaired; no leftovers", async () => {
  const records: Rec[] = [["f", object("twice = 1\n"), "t.py"], ["f", object("other = 1\n"), "sub/o.py"]];
  const id = "e".repeat(64);
  assert.equal(codestore("full", id, records), "[]");
  manifest(id, records);
  writeFileSync(join(trees, `${id}.tainted`), "");
  const both = await Promise.all([0, 1].map(() => codestoreAsync("full", id, records)));
  assert.deepEqual(both, ["[]", "[]"]);
  assert.ok(!existsSync(join(trees, `${id}.tainted`)));
  assert.deepEqual(guard(id, ["t.py", "sub/o.py"]), { ok: [true, true], changed: [] });
  assert.deepEqual(readdirSync(trees).filter((name) => name.startsWith(".old") || name.startsWith(".build")), []);
});

test("files of a tree only touched (a scratch purge's touch: the mtime changed, not the bytes) are no change to the guard, which tags them again", () => {
  const records: Rec[] = [["f", object("touched = 1\n"), "t.py"]];
  const id = "c".repeat(64);
  assert.equal(codestore("full", id, records), "[]");
  manifest(id, records);
  execFileSync("touch", ["-m", join(trees, id, "t.py")]);
  assert.deepEqual(guard(id, ["t.py"]), { ok: [true], changed: [] });
  assert.ok(!existsSync(join(trees, `${id}.tainted`)));
  assert.equal(Number(statSync(join(trees, id, "t.py"), { bigint: true }).mtimeNs % 1_000_000_000n), tagOf(records[0]![1]));
});
