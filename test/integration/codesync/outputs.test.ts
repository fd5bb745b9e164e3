// Bringing outputs back over the local transport: only changed files travel, names are checked, and
// nothing is written outside the chosen dir or through a symlink.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { checkOutputName, fetchOutputs } from "../../../src/codesync/outputs.js";
import { storeArgv } from "../../../src/codesync/store.js";
import { LocalTransport } from "../../../src/transport/local.js";
import { JobFilesGoneError } from "../../../src/util/errors.js";
import { makeTree } from "../../unit/codesync/tree.js";

const transport = new LocalTransport();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tree = (files: Record<string, string>) => {
  const dir = makeTree(files, "sr-out-");
  dirs.push(dir);
  return dir;
};

test("files come back once; a changed one comes back again; symlinks on the job's side are not sent", async () => {
  const remote = tree({ "a.txt": "a", "sub/deep/b.csv": "b", "big.bin": "x".repeat(100_000) });
  const secret = tree({ "secret.txt": "not an output" });
  symlinkSync(join(secret, "secret.txt"), join(remote, "leak.txt"));
  symlinkSync(secret, join(remote, "leakdir"));
  const local = join(tree({}), "got");
  const first = await fetchOutputs(transport, "python3", remote, local);
  assert.deepEqual([first.files, readFileSync(join(local, "sub/deep/b.csv"), "utf8")], [3, "b"]);
  assert.equal(existsSync(join(local, "leak.txt")) || existsSync(join(local, "leakdir")), false);
  assert.equal((await fetchOutputs(transport, "python3", remote, local)).files, 0, "nothing changed: nothing travels");
  writeFileSync(join(remote, "a.txt"), "a2");
  const again = await fetchOutputs(transport, "python3", remote, local);
  assert.deepEqual([again.files, again.bytes, readFileSync(join(local, "a.txt"), "utf8")], [1, 2, "a2"]);
});

test("an output is never written through a symlink in the chosen dir", async () => {
  const remote = tree({ "sub/x.txt": "x" });
  const elsewhere = tree({});
  const local = tree({});
  symlinkSync(elsewhere, join(local, "sub"));
  await assert.rejects(fetchOutputs(transport, "python3", remote, local), /in the way of an output file/);
  assert.equal(existsSync(join(elsewhere, "x.txt")), false);
  rmSync(join(local, "sub"));
  mkdirSync(join(local, "sub"));
  symlinkSync(join(elsewhere, "target"), join(local, "sub", "x.txt"));
  await assert.rejects(fetchOutputs(transport, "python3", remote, local), /is a symlink/);
  assert.equal(existsSync(join(elsewhere, "target")), false);
});

test("names that could lead outside the dir are refused", () => {
  for (const bad of ["/etc/passwd", "../x", "a/../../x", "a//b", "./a", "", "a/\0b", "a/.."]) {
    assert.throws(() => checkOutputName(bad), /could lead outside the outputs dir/, bad);
  }
  for (const good of ["a", "a/b.csv", ".hidden", "..dots", "a b/c"]) checkOutputName(good);
});

test("an array's outputs: only the named element dirs' files travel, in one command, and only changed ones next time", async () => {
  const remote = tree({ "0/outputs/a.txt": "a0", "0/job.log": "log", "1/outputs/b.txt": "b1", "2/outputs/c.txt": "c2", "2/result.json": "{}" });
  const local = join(tree({}), "J");
  const before = transport.commandCount;
  const first = await fetchOutputs(transport, "python3", remote, local, undefined, ["0/outputs", "2/outputs"]);
  assert.equal(transport.commandCount - before, 1);
  assert.deepEqual([first.files, readFileSync(join(local, "0/outputs/a.txt"), "utf8"), readFileSync(join(local, "2/outputs/c.txt"), "utf8")], [2, "a0", "c2"]);
  for (const other of ["0/job.log", "1/outputs/b.txt", "2/result.json"]) assert.equal(existsSync(join(local, other)), false, other);
  writeFileSync(join(remote, "2/outputs/c.txt"), "c2 again");
  const again = await fetchOutputs(transport, "python3", remote, local, undefined, ["0/outputs", "2/outputs"]);
  assert.deepEqual([again.files, readFileSync(join(local, "2/outputs/c.txt"), "utf8")], [1, "c2 again"]);
});

test("a job that wrote no outputs brings back none; a job's folder that is gone is an error, not 'no outputs'", async () => {
  const remote = tree({ "job.log": "ran", "0/job.log": "ran" });
  const local = tree({});
  assert.equal((await fetchOutputs(transport, "python3", join(remote, "outputs"), local)).files, 0);
  assert.equal((await fetchOutputs(transport, "python3", remote, local, undefined, ["0/outputs"])).files, 0);
  const gone = (error: unknown) => error instanceof JobFilesGoneError && error.exitCode === 1 && /the job's folder holding .* is not there on the target: the job's folder was removed/.test(error.message);
  await assert.rejects(fetchOutputs(transport, "python3", join(remote, "gone", "outputs"), local), gone);
  await assert.rejects(fetchOutputs(transport, "python3", remote, local, undefined, ["0/outputs", "7/outputs"]), gone);
});

test("a dir to send that could lead outside is refused, here and by the remote side", async () => {
  const remote = tree({ "0/outputs/a.txt": "a" });
  const local = tree({});
  await assert.rejects(fetchOutputs(transport, "python3", remote, local, undefined, ["../0/outputs"]), /could lead outside/);
  for (const bad of ["../x", "/etc", "0/../..", "0//outputs", ""]) {
    const r = await transport.exec(storeArgv("python3", "send", remote, bad), { stdin: Buffer.alloc(0) });
    assert.equal(r.code, 2, `${JSON.stringify(bad)}: ${r.stderr}`);
    assert.match(r.stderr, /could lead outside/);
  }
});
