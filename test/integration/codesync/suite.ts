// Code sync behaviour, written once and run over each transport (local, and OpenSSH against the test bed).
import assert from "node:assert/strict";
import { rmSync, unlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, type TestContext, test } from "node:test";
import { decodeName, encodeName } from "../../../src/codesync/names.js";
import { codeProbeSnippet, parseCodeProbe } from "../../../src/codesync/remote.js";
import { type SyncOptions, syncCode } from "../../../src/codesync/sync.js";
import type { Transport } from "../../../src/transport/types.js";
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

/** Every non-directory under the remote code dir (slurmray's own .slurmray excluded), sorted. */
async function remoteListing(transport: Transport, codeDir: string): Promise<string[]> {
  const out = await remoteBytes(transport, [
    "sh",
    "-c",
    'cd "$1" && find . -path ./.slurmray -prune -o ! -type d -print0',
    "sh",
    codeDir,
  ]);
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
      const options: SyncOptions = { root, cacheDir, codeDir: `${opened.remoteTmp}/code${n++}`, targetKey: "t" };
      return { ...opened, root, cacheDir, options };
    };
    after(() => {
      for (const l of locals) rmSync(l, { recursive: true, force: true });
    });

    test("5,000 files: first sync, nothing changed, one changed, one deleted", async (t) => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 5000; i++) files[`pkg${i % 50}/m${i}.py`] = `x = ${i}\n`;
      const s = await setup(t, files);
      if (!s) return;
      const first = await syncCode(s.transport, s.options);
      assert.equal(first.files_uploaded, 5000);
      assert.equal(first.remote_commands, 2);
      assert.equal((await remoteListing(s.transport, s.options.codeDir)).length, 5000);

      const same = await syncCode(s.transport, s.options);
      assert.deepEqual([same.files_uploaded, same.bytes_uploaded, same.files_deleted], [0, 0, 0]);
      assert.ok(same.remote_commands <= 1, `remote commands: ${same.remote_commands}`);

      writeFileSync(join(s.root, "pkg7/m1007.py"), "x = 'changed'\n");
      const one = await syncCode(s.transport, s.options);
      assert.equal(one.files_uploaded, 1);
      assert.ok(one.bytes_uploaded < first.bytes_uploaded / 2, `bytes: ${one.bytes_uploaded}`);
      assert.equal(await remoteFile(s.transport, `${s.options.codeDir}/pkg7/m1007.py`), "x = 'changed'\n");

      unlinkSync(join(s.root, "pkg3/m3.py"));
      const del = await syncCode(s.transport, s.options);
      assert.deepEqual([del.files_uploaded, del.files_deleted], [0, 1]);
      const listing = await remoteListing(s.transport, s.options.codeDir);
      assert.equal(listing.length, 4999);
      assert.ok(!listing.includes("pkg3/m3.py"));
    });

    test("a batched probe's stamp saves the probe; a lost local cache is rebuilt from the remote manifest", async (t) => {
      const s = await setup(t, { "a.py": "a", "b.py": "b", "c.py": "c" });
      if (!s) return;
      await syncCode(s.transport, s.options);
      writeFileSync(join(s.root, "b.py"), "b2");
      unlinkSync(join(s.root, "c.py"));
      await syncCode(s.transport, s.options); // appends a delta line to the remote manifest journal
      const probe = await s.transport.script(codeProbeSnippet(s.options.codeDir));
      const remoteStamp = parseCodeProbe(probe.stdout);
      assert.match(String(remoteStamp), /^[0-9a-f]{64}$/);
      const batched = await syncCode(s.transport, { ...s.options, remoteStamp });
      assert.deepEqual([batched.files_uploaded, batched.remote_commands], [0, 0]);

      rmSync(join(s.cacheDir, "t"), { recursive: true });
      const unchanged = await syncCode(s.transport, s.options);
      assert.deepEqual([unchanged.files_uploaded, unchanged.remote_commands], [0, 1]);
      writeFileSync(join(s.root, "a.py"), "a2");
      const rebuilt = await syncCode(s.transport, s.options);
      // probe, read and replay the remote journal (its hash checked against the stamp), apply: only a.py is sent
      assert.deepEqual([rebuilt.files_uploaded, rebuilt.remote_commands], [1, 3]);
      assert.equal(await remoteFile(s.transport, `${s.options.codeDir}/a.py`), "a2");
    });

    test("names with spaces, quotes, newlines and non-UTF-8 bytes round-trip", async (t) => {
      const latin1 = decodeName(Buffer.from("caf\xe9.py", "latin1"));
      const long = `${"d".repeat(120)}/${"f".repeat(120)}.py`;
      const names = ["with space.py", "quo'te\"s.py", "new\nline.py", latin1, "ünï/ç.py", "-dash.py", ".hidden", long];
      const s = await setup(t, Object.fromEntries(names.map((p) => [p, `content of ${p}`])));
      if (!s) return;
      const first = await syncCode(s.transport, s.options);
      assert.equal(first.files_uploaded, names.length);
      assert.deepEqual(await remoteListing(s.transport, s.options.codeDir), [...names].sort());
      const got = await remoteBytes(s.transport, ["sh", "-c", 'cat "$1"/caf*.py', "sh", s.options.codeDir]);
      assert.deepEqual(got, Buffer.from(`content of ${latin1}`));

      unlinkSync(encodeName(join(s.root, latin1)));
      unlinkSync(join(s.root, "new\nline.py"));
      const del = await syncCode(s.transport, s.options);
      assert.equal(del.files_deleted, 2);
      assert.deepEqual(await remoteListing(s.transport, s.options.codeDir), names.filter((p) => p !== latin1 && !p.startsWith("new")).sort());
    });

    test("symlinks inside are sent as links, outside ones skipped; a file may become a directory", async (t) => {
      const s = await setup(t, { "pkg/real.py": "r", "data/x": "x", "thing": "was a file" });
      if (!s) return;
      link(s.root, "pkg/alias.py", "real.py");
      link(s.root, "d", "data");
      link(s.root, "escape", "../../etc");
      const first = await syncCode(s.transport, s.options);
      assert.match(first.warnings.join("\n"), /escape.*outside the project: not shipped/);
      assert.equal(await remoteLink(s.transport, `${s.options.codeDir}/pkg/alias.py`), "real.py");
      assert.equal(await remoteLink(s.transport, `${s.options.codeDir}/d`), "data");
      assert.ok(!(await remoteListing(s.transport, s.options.codeDir)).includes("escape"));

      rmSync(join(s.root, "thing"));
      writeTree(s.root, { "thing/inside.py": "now a dir" });
      const changed = await syncCode(s.transport, s.options);
      assert.deepEqual([changed.files_uploaded, changed.files_deleted], [1, 1]);
      assert.equal(await remoteFile(s.transport, `${s.options.codeDir}/thing/inside.py`), "now a dir");
    });

    test("dry run lists what would be sent and deleted, and sends nothing", async (t) => {
      const s = await setup(t, { "a.py": "a", "b.py": "b" });
      if (!s) return;
      await syncCode(s.transport, s.options);
      writeFileSync(join(s.root, "a.py"), "changed");
      mkdirSync(join(s.root, "new"));
      writeFileSync(join(s.root, "new/c.py"), "c");
      unlinkSync(join(s.root, "b.py"));
      const dry = await syncCode(s.transport, { ...s.options, dryRun: true });
      assert.deepEqual(dry.dryRunList, ["a.py", "new/c.py", "delete b.py"]);
      assert.equal(dry.bytes_uploaded, 0);
      assert.equal(await remoteFile(s.transport, `${s.options.codeDir}/a.py`), "a");
    });

    test("an interrupted sync (no stamp) is followed by a full resend that removes strays", async (t) => {
      const s = await setup(t, { "a.py": "a", "b.py": "b" });
      if (!s) return;
      await syncCode(s.transport, s.options);
      await s.transport.exec(["sh", "-c", 'rm "$1/.slurmray/stamp" && echo stray > "$1/stray.py"', "sh", s.options.codeDir]);
      const again = await syncCode(s.transport, s.options);
      assert.equal(again.files_uploaded, 2);
      assert.deepEqual(await remoteListing(s.transport, s.options.codeDir), ["a.py", "b.py"]);
    });
  });
}
