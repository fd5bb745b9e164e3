import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { localManifest } from "../../../src/codesync/manifest.js";
import { scanDigest, scanManifest } from "../../../src/codesync/scan.js";
import type { Selection } from "../../../src/codesync/select.js";
import { selectFiles } from "../../../src/codesync/select.js";
import { manifestId } from "../../../src/codesync/store.js";
import { scratchDir } from "../../helpers/scratch.js";
import { age, makeTree } from "./tree.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const tempDir = () => {
  const dir = scratchDir("sr-cs-scan-");
  dirs.push(dir);
  return dir;
};

/** An aged project outside git, its cache dir, and its first scan done (so the stamp is written). */
async function project(files: Record<string, string> = {}, stamped = true) {
  const root = makeTree({ "a/b/c.py": "C = 1\n", "a/d.py": "D = 1\n", "top.py": "T = 1\n", ...files });
  dirs.push(root);
  age(root);
  const cacheDir = tempDir();
  const select = () => selectFiles({ root, cacheDir });
  const scan = async () => scanManifest(root, await select(), cacheDir);
  const stamp = join(cacheDir, "codesync-scan.json");
  const hashes = join(cacheDir, "codesync-hashes.json");
  /** The id of the manifest built from nothing (no cache at all): what the scan must agree with. */
  const truth = async () => {
    const fresh = tempDir();
    return manifestId(localManifest(root, await selectFiles({ root, cacheDir: fresh }), fresh));
  };
  const first = (await scan()).id;
  assert.equal(existsSync(stamp), stamped, "a stamp is written after a scan of files none of which is racily recent");
  /** Scans after a change: the id must be new, and the one a manifest built from nothing has. */
  const seen = async (previous = first) => {
    const next = await scan();
    assert.notEqual(next.id, previous);
    assert.equal(next.id, await truth());
    return next;
  };
  return { root, cacheDir, scan, seen, stamp, hashes, truth, first };
}

/** Sets a file's mtime (seconds) and checks it took, so an edit differs only where a test means it to. */
function setMtime(path: string, seconds: number): void {
  utimesSync(path, seconds, seconds);
  assert.equal(statSync(path).mtimeMs, seconds * 1000);
}

describe("scan stamp", () => {
  test("nothing changed: the id comes from the stamp, without reading or rewriting the hash cache", async () => {
    const p = await project();
    assert.equal(p.first, await p.truth());
    // Were the manifest built, the hash cache would be written again.
    rmSync(p.hashes);
    const again = await p.scan();
    assert.equal(again.id, p.first);
    assert.equal(existsSync(p.hashes), false);
    // Asked for, the manifest is built (and hashed) afresh.
    assert.equal(again.manifest().id, p.first);
    assert.ok(existsSync(p.hashes));
  });

  for (const [what, content, later] of [
    ["an in-place edit of the same size with a new mtime", "D = 2\n", 1],
    ["an edit that keeps the mtime but changes the size", "D = 22\n", 0],
    // As `cp -p`, `rsync -a --inplace` or `touch -r` leave it: only the change time (ctime) tells.
    ["an in-place edit of the same size with its mtime set back", "D = 3\n", 0],
  ] as const) {
    test(`${what} is seen`, async () => {
      const p = await project();
      const file = join(p.root, "a/d.py");
      const mtime = statSync(file).mtimeMs / 1000;
      writeFileSync(file, content);
      setMtime(file, mtime + later);
      await p.seen();
    });
  }

  test("a file replaced by another of the same size and mtime (a new inode) is seen", async () => {
    const p = await project();
    const file = join(p.root, "a/d.py");
    const before = statSync(file);
    const temp = join(p.root, "a/d.py.new");
    writeFileSync(temp, "D = 3\n");
    renameSync(temp, file); // as editors save
    setMtime(file, before.mtimeMs / 1000);
    age(join(p.root, "a")); // even the directory keeps an old mtime (the selection cache is then re-checked by its own stamp)
    const after = statSync(file);
    assert.equal(after.size, before.size);
    assert.notEqual(after.ino, before.ino);
    await p.seen();
  });

  test("a file made executable, nothing else changed, is seen", async () => {
    const p = await project();
    chmodSync(join(p.root, "top.py"), 0o755);
    await p.seen();
  });

  test("a file with a password, shipped while config files lists it, is left out once it is no longer listed", async () => {
    const root = makeTree({ "main.py": "M = 1\n", "pw.sh": "SLURMRAY_PASSWORD=x\n" });
    dirs.push(root);
    age(root);
    const cacheDir = tempDir();
    const scan = async (files: string[]) => scanManifest(root, await selectFiles({ root, cacheDir, files }), cacheDir);
    const listed = await scan(["pw.sh"]);
    assert.ok(listed.manifest().entries.some((e) => e.path === "pw.sh"));
    const unlisted = await scan([]);
    assert.notEqual(unlisted.id, listed.id);
    assert.deepEqual(
      unlisted.manifest().entries.map((e) => e.path),
      ["main.py"],
    );
  });

  test("an added, a removed file and a renamed directory are seen", async () => {
    const p = await project();
    writeFileSync(join(p.root, "a/new.py"), "N = 1\n");
    const added = await p.seen();
    unlinkSync(join(p.root, "top.py"));
    const removed = await p.seen(added.id);
    renameSync(join(p.root, "a/b"), join(p.root, "a/z"));
    const renamed = await p.seen(removed.id);
    assert.ok(renamed.manifest().entries.some((e) => e.path === "a/z/c.py"));
  });

  test("a corrupt stamp is discarded and rebuilt", async () => {
    const p = await project();
    writeFileSync(p.stamp, readFileSync(p.stamp, "utf8").slice(0, 40));
    rmSync(p.hashes); // the manifest must be built again, not taken from anywhere
    const next = await p.scan();
    assert.equal(next.id, p.first);
    assert.ok(existsSync(p.hashes));
    assert.equal(JSON.parse(readFileSync(p.stamp, "utf8")).id, p.first);
  });

  test("a stamp whose id was edited is not trusted: the manifest is built and the stamp rewritten", async () => {
    const p = await project();
    const stamp = JSON.parse(readFileSync(p.stamp, "utf8"));
    writeFileSync(p.stamp, JSON.stringify({ ...stamp, id: "0".repeat(64) }));
    const next = await p.scan();
    assert.equal(next.id, p.first);
    assert.deepEqual(JSON.parse(readFileSync(p.stamp, "utf8")), stamp);
  });

  test("no stamp is kept for a file modified just now (a second edit in the same tick would keep its mtime)", async () => {
    const p = await project();
    writeFileSync(join(p.root, "a/d.py"), "D = 4\n");
    const before = readFileSync(p.stamp, "utf8");
    const next = await p.scan();
    assert.equal(next.id, await p.truth());
    assert.equal(readFileSync(p.stamp, "utf8"), before);
  });

  test("no stamp is kept while a file is left out for a password: its warning comes on every sync", async () => {
    const p = await project({ "pw.sh": "SLURMRAY_PASSWORD=x\n" }, false);
    assert.equal(p.first, await p.truth());
    for (let i = 0; i < 2; i++) {
      const selection = await selectFiles({ root: p.root, cacheDir: p.cacheDir });
      assert.equal(scanManifest(p.root, selection, p.cacheDir).id, p.first);
      assert.ok(selection.warnings.some((w) => w.includes("pw.sh: not shipped")));
      assert.equal(existsSync(p.stamp), false);
    }
  });
});

describe("scan digest", () => {
  const selection = (paths: string[], size = 1, requested: string[] = []): Selection => ({
    files: paths.map((path, i) => ({ path, size, ctimeMs: 1000.5, ino: 7 + i, mode: 0o644 })),
    symlinks: [],
    skippedLinks: [],
    warnings: [],
    reused: false,
    requested: new Set(requested),
  });
  test("names differing only in an escaped byte, or in where a name ends, have different digests", () => {
    const digests = [
      scanDigest("/p", selection(["caf\udce9.py"])),
      scanDigest("/p", selection(["caf\udce8.py"])),
      scanDigest("/p", selection(["caf\ufffd.py"])),
      scanDigest("/p", selection(["a", "b"])),
      scanDigest("/p", selection(["a\u0000b"])),
      scanDigest("/p", selection(["a", "b"], 2)),
      scanDigest("/p", selection(["a", "b"], 1, ["a"])),
      scanDigest("/q", selection(["a", "b"])),
    ];
    assert.equal(new Set(digests).size, digests.length);
    assert.equal(scanDigest("/p", selection(["a", "b"])), digests[3], "the same selection, the same digest");
  });
});
