import assert from "node:assert/strict";
import { test } from "node:test";
import { parityFor, reachable, skippedAfterInstall } from "../../../src/envsync/parity.js";
import type { Snapshot } from "../../../src/envsync/snapshot.js";

const LINUX = { sys_platform: "linux", python_version: "3.11", os_name: "posix" };

// Taken on a Windows laptop: delta needs winonly there; beta needs alpha everywhere; colorama only via winonly.
const SNAPSHOT: Snapshot = {
  requirements: ["beta==2.0", "delta==1.0"],
  constraints: ["alpha==1.0.0", "colorama==0.4.6", "epsilon==1.1", "winonly==1.0"],
  dependencies: {
    beta: ["alpha>=1.0"],
    delta: ["epsilon>=1.0", 'winonly; sys_platform == "win32"', 'gamma; extra == "fast"'],
    winonly: ["colorama"],
    alpha: [],
    epsilon: [],
    colorama: [],
  },
  hash: "h",
  pythonVersion: "3.11",
  editablesOutside: [],
  source: "test",
};

test("reachable follows the lines whose markers hold, not extra-only ones", () => {
  assert.deepEqual([...reachable(["delta"], SNAPSHOT.dependencies!, LINUX)].sort(), ["delta", "epsilon"]);
  assert.deepEqual([...reachable(["delta"], SNAPSHOT.dependencies!, { ...LINUX, sys_platform: "win32" })].sort(), ["colorama", "delta", "epsilon", "winonly"]);
});

test("on a Linux remote: the constraints that apply, and the platform-only ones skipped with their reason", () => {
  const parity = parityFor(SNAPSHOT, LINUX);
  assert.deepEqual(parity.constraints, ["alpha==1.0.0", "epsilon==1.1"]);
  assert.deepEqual(parity.skipped, [
    { name: "colorama", version: "0.4.6", reason: "not needed on the remote: required by winonly" },
    {
      name: "winonly",
      version: "1.0",
      reason: 'not needed on the remote: delta requires it only when sys_platform == "win32" (there sys_platform = "linux")',
    },
  ]);
});

test("a new env (remote interpreter not known yet): every constraint goes; the installer's leftovers are reported after", () => {
  assert.deepEqual(parityFor(SNAPSHOT, null), { constraints: SNAPSHOT.constraints, skipped: [] });
  assert.deepEqual(skippedAfterInstall(SNAPSHOT, ["beta", "Delta", "alpha", "epsilon"]), [
    { name: "colorama", version: "0.4.6", reason: "not installed by the remote's installer: required by winonly" },
    { name: "winonly", version: "1.0", reason: 'not installed by the remote\'s installer: delta requires it only when sys_platform == "win32"' },
  ]);
});

test("a snapshot from a requirements file has no constraints and skips nothing", () => {
  const file: Snapshot = { ...SNAPSHOT, constraints: undefined, dependencies: undefined };
  assert.deepEqual(parityFor(file, LINUX), { constraints: [], skipped: [] });
});
