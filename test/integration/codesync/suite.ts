// Code sync behaviour, written once and run over each transport (local, and OpenSSH against the test bed).
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, type TestContext, test } from "node:test";
import { sha256 } from "../../../src/codesync/manifest.js";
import { decodeName, encodeName } from "../../../src/codesync/names.js";
import { codeProbeSnippet, parseCodeProbe } from "../../../src/codesync/remote.js";
import { scanDigest } from "../../../src/codesync/scan.js";
import { selectFiles } from "../../../src/codesync/select.js";
import { lastCodeId } from "../../../src/codesync/sent-state.js";
import { type SyncOptions, type SyncResult, syncCode } from "../../../src/codesync/sync.js";
import type { Transport } from "../../../src/transport/types.js";
import { requireTestbed, type TestBed } from "../../helpers/testbed.js";
import { link, makeTree, writeTree } from "../../unit/codesync/tree.js";

/** Runs argv remotely and returns its raw stdout bytes. */
async function remoteBytes(transport: Transport, argv: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  const result = await transport.exec(argv, { stdout: sink });
  assert.equal(result.code, 0, result.stderr);
  return Buffer.concat(chunks);
}

/** Every non-directory in a remote tree, sorted. */
async function remoteListing(transport: Transport, dir: string): Promise<string[]> {
  const out = await remoteBytes(transport, ["sh", "-c", 'cd "$1" && find . ! -type d -print0', "sh", dir]);
  const paths: string[] = [];
  let start = 0;
  for (let end = out.indexOf(0); end >= 0; start = end + 1, end = out.indexOf(0, start)) {
    paths.push(decodeName(out.subarray(start + 2, end)));
  }
  return paths.sort();
}

async function remoteFile(transport: Transport, path: string): Promise<string> {
  return (await remoteBytes(transport, ["cat", "--", path])).toString("utf8");
}

async function remoteLink(transport: Transport, path: string): Promise<string> {
  return (await remoteBytes(transport, ["readlink", "--", path])).toString("utf8").trim();
}

/** Shell that removes a dir holding read-only code trees (their dirs are 0500). */
export const REMOVE_STORE = 'chmod -R u+w -- "$1" 2>/dev/null; rm -rf -- "$1"';

/**
 * An `open` for codesync suites on the test bed: one connection made by `make` and one scratch dir, both
 * removed after the file's tests (`close` ends the transport).
 */
export function bedOpener<T extends Transport>(make: (bed: TestBed) => T, close: (transport: T) => Promise<void>) {
  let opened: { transport: T; remoteTmp: string } | undefined;
  after(async () => {
    if (!opened) return;
    await opened.transport.exec(["sh", "-c", REMOVE_STORE, "sh", opened.remoteTmp]);
    await close(opened.transport);
  });
  return async (t: TestContext) => {
    const bed = requireTestbed(t);
    if (!bed) return undefined;
    if (!opened) {
      const transport = make(bed);
      await transport.connect();
      const made = await transport.exec(["mktemp", "-d", "/tmp/sr-cs-remote-XXXXXX"]);
      opened = { transport, remoteTmp: made.stdout.trim() };
    }
    return opened;
  };
}

/**
 * Registers the suite. `open` returns a connected transport and a scratch remote dir, or undefined to skip
 * (the test bed is absent outside CI).
 */
export function codesyncSuite(
  name: string,
  open: (t: TestContext) => Promise<{ transport: Transport; remoteTmp: string } | undefined>,
): void {
  describe(`code sync over ${name}`, () => {
    const locals: string[] = [];
    let n = 0;
    const setup = async (t: TestContext, files: Record<string, string>) => {
      const opened = await open(t);
      if (!opened) return undefined;
      const root = makeTree(files);
      const cacheDir = makeTree({}, "sr-cs-cache-");
      locals.push(root, cacheDir);
      const options: SyncOptions = { root, cacheDir, baseDir: `${opened.remoteTmp}/base${n++}`, python: "python3", targetKey: "t" };
      return { ...opened, root, cacheDir, options };
    };
    after(() => {
      for (const l of locals) rmSync(l, { recursive: true, force: true });
    });

    test("5,000 files: first sync, nothing changed, one changed, one deleted; earlier trees never change", async (t) => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 5000; i++) files[`pkg${i % 50}/m${i}.py`] = `x = ${i}\n`;
      const s = await setup(t, files);
      if (!s) return;
      const first = await syncCode(s.transport, s.options);
      assert.equal(first.files_uploaded, 5000);
      assert.equal(first.remote_commands, 2);
      assert.equal((await remoteListing(s.transport, first.treeDir)).length, 5000);

      const same = await syncCode(s.transport, s.options);
      assert.deepEqual([same.files_uploaded, same.bytes_uploaded, same.files_deleted, same.treeDir], [0, 0, 0, first.treeDir]);
      assert.ok(same.remote_commands <= 1, `remote commands: ${same.remote_commands}`);

      writeFileSync(join(s.root, "pkg7/m1007.py"), "x = 'changed'\n");
      const one = await syncCode(s.transport, s.options);
      assert.equal(one.files_uploaded, 1);
      assert.ok(one.bytes_uploaded < 1000, `bytes: ${one.bytes_uploaded}`);
      assert.notEqual(one.treeDir, first.treeDir);
      assert.equal(await remoteFile(s.transport, `${one.treeDir}/pkg7/m1007.py`), "x = 'changed'\n");
      assert.equal(await remoteFile(s.transport, `${first.treeDir}/pkg7/m1007.py`), "x = 1007\n");

      unlinkSync(join(s.root, "pkg3/m3.py"));
      const del = await syncCode(s.transport, s.options);
      assert.deepEqual([del.files_uploaded, del.files_deleted], [0, 1]);
      const listing = await remoteListing(s.transport, del.treeDir);
      assert.equal(listing.length, 4999);
      assert.ok(!listing.includes("pkg3/m3.py"));
      assert.equal((await remoteListing(s.transport, one.treeDir)).length, 5000);
    });

    test("a batched probe saves the probe; a lost local cache means a resend, never a wrong tree", async (t) => {
      const s = await setup(t, { "a.py": "a", "b.py": "b", "c.py": "c" });
      if (!s) return;
      const first = await syncCode(s.transport, s.options);
      const probed = await s.transport.script(codeProbeSnippet(s.options.baseDir, lastCodeId(s.cacheDir, "t")));
      const probe = parseCodeProbe(probed.stdout);
      assert.equal(probe?.present, true);
      const batched = await syncCode(s.transport, { ...s.options, probe });
      assert.deepEqual([batched.files_uploaded, batched.remote_commands, batched.treeDir], [0, 0, first.treeDir]);

      rmSync(join(s.cacheDir, "t"), { recursive: true });
      writeFileSync(join(s.root, "a.py"), "a2");
      const rebuilt = await syncCode(s.transport, s.options);
      assert.deepEqual([rebuilt.files_uploaded, rebuilt.remote_commands], [3, 2]);
      assert.equal(await remoteFile(s.transport, `${rebuilt.treeDir}/a.py`), "a2");
    });

    test("a sent state that lies about the base (valid JSON, right id) costs a resend, never a wrong tree", async (t) => {
      const s = await setup(t, { "a.py": "a", "b.py": "b", "c.py": "c" });
      if (!s) return;
      await syncCode(s.transport, s.options);
      const stateFile = join(s.cacheDir, "t", "code-state.json");
      const state = JSON.parse(readFileSync(stateFile, "utf8")) as { paths: string[]; sha: string; modes: number[] };
      assert.deepEqual(state.paths, ["a.py", "b.py", "c.py"]);
      writeFileSync(stateFile, JSON.stringify({ ...state, paths: ["a.py", "c.py"], sha: state.sha.slice(0, 64) + state.sha.slice(128), modes: [state.modes[0], state.modes[2]] }));
      // b.py deleted: with the state not listing it, the delta cannot remove it; the target sees its id is wrong.
      rmSync(join(s.root, "b.py"));
      writeFileSync(join(s.root, "a.py"), "a2");
      const next = await syncCode(s.transport, s.options);
      assert.equal(next.remote_commands, 3, "probe, the delta (answered nobase), the whole manifest");
      assert.deepEqual(await remoteListing(s.transport, next.treeDir), ["a.py", "c.py"]);
      assert.equal(await remoteFile(s.transport, `${next.treeDir}/a.py`), "a2");
    });

    test("names with spaces, quotes, newlines and non-UTF-8 bytes round-trip", async (t) => {
      const latin1 = decodeName(Buffer.from("caf\xe9.py", "latin1"));
      const long = `${"d".repeat(120)}/${"f".repeat(120)}.py`;
      const names = ["with space.py", "quo'te\"s.py", "new\nline.py", latin1, "ünï/ç.py", "-dash.py", ".hidden", long];
      const s = await setup(t, Object.fromEntries(names.map((p) => [p, `content of ${p}`])));
      if (!s) return;
      const first = await syncCode(s.transport, s.options);
      assert.equal(first.files_uploaded, names.length);
      assert.deepEqual(await remoteListing(s.transport, first.treeDir), [...names].sort());
      const got = await remoteBytes(s.transport, ["sh", "-c", 'cat "$1"/caf*.py', "sh", first.treeDir]);
      assert.deepEqual(got, Buffer.from(`content of ${latin1}`));

      unlinkSync(encodeName(join(s.root, latin1)));
      unlinkSync(join(s.root, "new\nline.py"));
      const del = await syncCode(s.transport, s.options);
      assert.equal(del.files_deleted, 2);
      assert.deepEqual(await remoteListing(s.transport, del.treeDir), names.filter((p) => p !== latin1 && !p.startsWith("new")).sort());
    });

    test("symlinks inside are kept as links, outside ones skipped; a file may become a directory; modes are read-only", async (t) => {
      const s = await setup(t, { "pkg/real.py": "r", "data/x": "x", "thing": "was a file", "run.sh": "#!/bin/sh\necho hi\n" });
      if (!s) return;
      chmodSync(join(s.root, "run.sh"), 0o755);
      link(s.root, "pkg/alias.py", "real.py");
      link(s.root, "d", "data");
      link(s.root, "escape", "../../etc");
      const first = await syncCode(s.transport, s.options);
      assert.match(first.warnings.join("\n"), /escape.*outside the project: not shipped/);
      assert.equal(await remoteLink(s.transport, `${first.treeDir}/pkg/alias.py`), "real.py");
      assert.equal(await remoteLink(s.transport, `${first.treeDir}/d`), "data");
      assert.ok(!(await remoteListing(s.transport, first.treeDir)).includes("escape"));
      const modes = await remoteBytes(s.transport, ["sh", "-c", 'cd "$1" && stat -c "%a %n" run.sh pkg/real.py pkg .', "sh", first.treeDir]);
      assert.deepEqual(modes.toString().trim().split("\n"), ["555 run.sh", "444 pkg/real.py", "500 pkg", "500 ."]);

      rmSync(join(s.root, "thing"));
      writeTree(s.root, { "thing/inside.py": "now a dir" });
      const changed = await syncCode(s.transport, s.options);
      assert.deepEqual([changed.files_uploaded, changed.files_deleted], [1, 1]);
      assert.equal(await remoteFile(s.transport, `${changed.treeDir}/thing/inside.py`), "now a dir");
    });

    test("dry run lists what would be sent and deleted, and sends nothing", async (t) => {
      const s = await setup(t, { "a.py": "a", "b.py": "b" });
      if (!s) return;
      const first = await syncCode(s.transport, s.options);
      writeFileSync(join(s.root, "a.py"), "changed");
      mkdirSync(join(s.root, "new"));
      writeFileSync(join(s.root, "new/c.py"), "c");
      unlinkSync(join(s.root, "b.py"));
      const dry = await syncCode(s.transport, { ...s.options, dryRun: true });
      assert.deepEqual(dry.dryRunList, ["a.py", "new/c.py", "delete b.py"]);
      assert.equal(dry.bytes_uploaded, 0);
      assert.equal(await remoteFile(s.transport, `${first.treeDir}/a.py`), "a");
      assert.equal(lastCodeId(s.cacheDir, "t"), first.id);
    });

    test("a removed tree, a lost object and a writable (planted) object are repaired by the next sync", async (t) => {
      const s = await setup(t, { "a.py": "a", "b.py": "b", "c.py": "c" });
      if (!s) return;
      const first = await syncCode(s.transport, s.options);
      const store = `${s.options.baseDir}/objects/${first.treeDir.split("/").at(-2)}`;
      // The tree is gone (clean): everything is sent again.
      await s.transport.exec(["sh", "-c", REMOVE_STORE, "sh", first.treeDir]);
      const resent = await syncCode(s.transport, s.options);
      assert.deepEqual([resent.files_uploaded, resent.treeDir], [3, first.treeDir]);
      assert.equal(await remoteFile(s.transport, `${resent.treeDir}/b.py`), "b");

      // b.py's object lost, c.py's replaced by a writable impostor: new files with those contents (which the
      // client believes stored) are asked for again. The trees and their spare keep the original inodes.
      const [bKey, cKey] = [sha256("b"), sha256("c")];
      await s.transport.exec(["sh", "-c", 'rm -f "$1/$2" && rm -f "$1/$3" && echo evil > "$1/$3" && chmod 644 "$1/$3"', "sh", store, bKey, cKey]);
      writeFileSync(join(s.root, "b2.py"), "b");
      writeFileSync(join(s.root, "c2.py"), "c");
      const repaired = await syncCode(s.transport, s.options);
      assert.equal(repaired.remote_commands, 3, "probe, apply, apply of the missing objects");
      const files = ["a.py", "b.py", "c.py", "b2.py", "c2.py"];
      assert.deepEqual(await Promise.all(files.map((f) => remoteFile(s.transport, `${repaired.treeDir}/${f}`))), ["a", "b", "c", "b", "c"]);
    });

    test("a store dir that is not private is refused with a clear error", async (t) => {
      const s = await setup(t, { "a.py": "a" });
      if (!s) return;
      await s.transport.exec(["sh", "-c", 'mkdir -p "$1/objects/$(id -u)" && chmod 755 "$1/objects/$(id -u)"', "sh", s.options.baseDir]);
      await assert.rejects(syncCode(s.transport, s.options), /must be a directory of uid \d+ with mode 0700/);
      // The sent state written while the target worked is not put in place, nor left behind.
      assert.deepEqual(existsSync(join(s.cacheDir, "t")) ? readdirSync(join(s.cacheDir, "t")) : [], []);
    });

    test("a change makes the new tree from the spare of the last one, in place; the last tree stays as it was", async (t) => {
      const s = await setup(t, { "keep/a.py": "a = 1\n", "keep/deep/b.py": "b = 1\n", "edit.py": "e = 1\n", "gone/only.py": "g = 1\n" });
      if (!s) return;
      const first = await syncCode(s.transport, s.options);
      const trees = dirname(first.treeDir);
      const inode = async (path: string) => (await remoteBytes(s.transport, ["stat", "-c", "%i", "--", path])).toString().trim();
      const spareKeep = await inode(`${trees}/.spare-${first.id}/keep`);
      assert.deepEqual(await remoteListing(s.transport, `${trees}/.spare-${first.id}`), await remoteListing(s.transport, first.treeDir));

      writeFileSync(join(s.root, "edit.py"), "e = 2\n");
      rmSync(join(s.root, "gone"), { recursive: true });
      writeFileSync(join(s.root, "new.py"), "n = 1\n");
      const next = await syncCode(s.transport, s.options);
      assert.equal(await inode(`${next.treeDir}/keep`), spareKeep, "the unchanged dir is the spare's: the tree was not built file by file");
      assert.deepEqual(await remoteListing(s.transport, next.treeDir), ["edit.py", "keep/a.py", "keep/deep/b.py", "new.py"]);
      assert.equal(await remoteFile(s.transport, `${next.treeDir}/edit.py`), "e = 2\n");
      assert.deepEqual(await remoteListing(s.transport, first.treeDir), ["edit.py", "gone/only.py", "keep/a.py", "keep/deep/b.py"]);
      assert.equal(await remoteFile(s.transport, `${first.treeDir}/edit.py`), "e = 1\n");
      // The spare was used up, and the new tree has one for the next change.
      const names = (await remoteBytes(s.transport, ["ls", "-A", "--", trees])).toString().split("\n");
      assert.deepEqual(names.filter((n) => n.startsWith(".spare-")), [`.spare-${next.id}`]);
      assert.deepEqual(names.filter((n) => n.startsWith(".build-")), []);
    });

    test("the scan hint only decides when the apply starts: touched files send nothing, a forged hint hides no change", async (t) => {
      const s = await setup(t, { "a.py": "a = 1\n", "b.py": "b = 1\n" });
      if (!s) return;
      const first = await syncCode(s.transport, s.options);
      // A touch changes the scan, not the manifest: the apply started early is ended with nothing sent.
      utimesSync(join(s.root, "a.py"), new Date(), new Date(Date.now() + 5000));
      const touched = await syncCode(s.transport, s.options);
      assert.deepEqual([touched.files_uploaded, touched.remote_commands, touched.treeDir], [0, 2, first.treeDir]);
      // An edit, with the hint forged to say these files were seen already: the change still goes.
      writeFileSync(join(s.root, "b.py"), "b = 2\n");
      writeFileSync(join(s.cacheDir, "codesync-seen"), scanDigest(s.root, await selectFiles({ root: s.root, cacheDir: s.cacheDir })));
      const edited = await syncCode(s.transport, s.options);
      assert.equal(edited.files_uploaded, 1);
      assert.equal(await remoteFile(s.transport, `${edited.treeDir}/b.py`), "b = 2\n");
      writeFileSync(join(s.root, "b.py"), "b = 3\n");
      writeFileSync(join(s.cacheDir, "codesync-seen"), "\0garbage");
      assert.equal(await remoteFile(s.transport, `${(await syncCode(s.transport, s.options)).treeDir}/b.py`), "b = 3\n");
    });

    test("two changes at once from one base (one gets its spare), then from their own: each tree exact, the base never changes", async (t) => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 200; i++) files[`d${i % 5}/m${i}.py`] = `v = 0  # ${i}\n`;
      const s = await setup(t, files);
      if (!s) return;
      const other = makeTree(files);
      const otherCache = makeTree({}, "sr-cs-cache-");
      locals.push(other, otherCache);
      const mine = s.options;
      const theirs = { ...s.options, root: other, cacheDir: otherCache };
      const base = await syncCode(s.transport, mine);
      assert.equal((await syncCode(s.transport, theirs)).treeDir, base.treeDir);
      for (let round = 1; round <= 3; round++) {
        writeFileSync(join(s.root, "d1/m1.py"), `mine ${round}\n`);
        rmSync(join(other, `d2/m${round * 5 + 2}.py`));
        mkdirSync(join(other, "d9"), { recursive: true });
        writeFileSync(join(other, `d9/new${round}.py`), `theirs ${round}\n`);
        const [a, b]: SyncResult[] = await Promise.all([syncCode(s.transport, mine), syncCode(s.transport, theirs)]);
        const listA = await remoteListing(s.transport, a.treeDir);
        const listB = await remoteListing(s.transport, b.treeDir);
        assert.equal(await remoteFile(s.transport, `${a.treeDir}/d1/m1.py`), `mine ${round}\n`);
        assert.equal(await remoteFile(s.transport, `${b.treeDir}/d1/m1.py`), "v = 0  # 1\n");
        assert.equal(listA.length, 200);
        assert.ok(!listA.some((p) => p.startsWith("d9/")));
        assert.deepEqual(listB.filter((p) => p.startsWith("d9/")), Array.from({ length: round }, (_, i) => `d9/new${i + 1}.py`));
        assert.equal(listB.length, 200); // one removed, one added per round
        assert.ok(!listB.includes(`d2/m${round * 5 + 2}.py`));
        // Each side's next base is its own tree; the first tree never changed.
        assert.equal((await remoteListing(s.transport, base.treeDir)).length, 200);
      }
    });

    test("concurrent syncs of different versions each get their own complete tree", async (t) => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 400; i++) files[`m${i}.py`] = `v = 1  # ${i}\n`;
      const s = await setup(t, files);
      if (!s) return;
      const other = makeTree(Object.fromEntries(Object.entries(files).map(([p, c]) => [p, c.replace("v = 1", "v = 2")])));
      locals.push(other);
      const [a, b] = await Promise.all([syncCode(s.transport, s.options), syncCode(s.transport, { ...s.options, root: other, targetKey: "u" })]);
      assert.notEqual(a.treeDir, b.treeDir);
      assert.equal(await remoteFile(s.transport, `${a.treeDir}/m7.py`), "v = 1  # 7\n");
      assert.equal(await remoteFile(s.transport, `${b.treeDir}/m7.py`), "v = 2  # 7\n");
      assert.equal((await remoteListing(s.transport, b.treeDir)).length, 400);
    });
  });
}
