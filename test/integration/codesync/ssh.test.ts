// Code sync over OpenSSH against the test bed's real sshd.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { test } from "node:test";
import { syncCode } from "../../../src/codesync/sync.js";
import { OpenSshTransport } from "../../../src/transport/openssh.js";
import { scratchDir } from "../../helpers/scratch.js";
import { bedTransport, requireTestbed } from "../../helpers/testbed.js";
import { makeTree } from "../../unit/codesync/tree.js";
import { bedOpener, codesyncSuite, REMOVE_STORE } from "./suite.js";

const open = bedOpener(
  (bed) => bedTransport(bed, "/tmp/srcs-"),
  async (transport) => {
    await transport.shutdown();
    rmSync(dirname(transport.controlSocket), { recursive: true, force: true });
  },
);

codesyncSuite("OpenSSH (test bed)", open);

test("a base_dir shared by two users: one store each, neither can plant an object in the other's", async (t) => {
  const bed = requireTestbed(t);
  if (!bed) return;
  const { transport } = (await open(t))!;
  const other = new OpenSshTransport({ host: "srtb2", sshConfigFile: bed.sshConfig, controlDir: scratchDir("/tmp/srcs2-") });
  // A base_dir shared on purpose is one an admin made like /tmp (the bed is this machine; the test is root).
  const base = `/tmp/sr-cs-shared-${process.pid}`;
  mkdirSync(base);
  chmodSync(base, 0o1777);
  const root = makeTree({ "a.py": "same content" });
  const caches = [makeTree({}), makeTree({})];
  try {
    const options = (cacheDir: string) => ({ root, baseDir: base, python: "python3", cacheDir, targetKey: "t" });
    const mine = await syncCode(transport, options(caches[0]!));
    const theirs = await syncCode(other, options(caches[1]!));
    assert.notEqual(mine.treeDir, theirs.treeDir, "one tree dir per uid");
    const plant = await other.exec(["sh", "-c", 'echo evil > "$1/x" 2>&1 || echo refused', "sh", `${base}/objects/${mine.treeDir.split("/").at(-2)}`]);
    assert.match(plant.stdout, /refused/);
    const modes = await transport.exec(["stat", "-c", "%a", `${base}/objects`, `${base}/trees`]);
    assert.deepEqual(modes.stdout.trim().split("\n"), ["1777", "1777"]);
  } finally {
    const own = 'for d in "$1/objects/$(id -u)" "$1/trees/$(id -u)"; do chmod -R u+w "$d" 2>/dev/null; rm -rf "$d"; done';
    await other.exec(["sh", "-c", own, "sh", base]);
    await transport.exec(["sh", "-c", REMOVE_STORE, "sh", base]);
    rmSync(base, { recursive: true, force: true });
    await other.shutdown();
    rmSync(dirname(other.controlSocket), { recursive: true, force: true });
    for (const d of [root, ...caches]) rmSync(d, { recursive: true, force: true });
  }
});
