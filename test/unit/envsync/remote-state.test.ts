import assert from "node:assert/strict";
import { test } from "node:test";
import { envProbeSnippet, parseEnvProbe } from "../../../src/envsync/remote-state.js";
import { stampLine } from "../../../src/envsync/stamp.js";

const STAMP = { version: 1 as const, hash: "ab12", id: "ff00", python: "3.11", time: "2025-01-01T00:00:00Z", requirements: ["alpha==1.0"] };
const section = (...lines: string[]): string => ["noise", "@@slurmray:env:begin@@", ...lines, "@@slurmray:env:end@@", "more"].join("\n");

test("the stamp form: the stamp and uv's path, no state", () => {
  const probe = parseEnvProbe(section("uv /usr/local/bin/uv", "dir /h/envs/p-py3.11-2", `stamp ${stampLine(STAMP)}`));
  assert.deepEqual(probe, { kind: "stamp", uv: "/usr/local/bin/uv", envDir: "/h/envs/p-py3.11-2", stamp: STAMP });
});

test("the full form: state with its stamp; an env without a stamp has stamp null", () => {
  const state = { python: "3.11.2", executable: "/e/bin/python", markers: { sys_platform: "linux" }, distributions: [], path: [] };
  const stamped = parseEnvProbe(section("uv ", `state ${JSON.stringify({ ...state, stamp: STAMP })}`));
  assert.equal(stamped.kind, "state");
  assert.equal(stamped.uv, null);
  assert.deepEqual(stamped.kind === "state" && stamped.stamp, STAMP);
  const bare = parseEnvProbe(section(`state ${JSON.stringify({ ...state, stamp: null })}`));
  assert.equal(bare.kind === "state" && bare.stamp, null);
});

test("a truncated stamp is no stamp (the fast path is not taken)", () => {
  const probe = parseEnvProbe(section("stamp {\"version\":1,\"hash\":\"ab", "missing"));
  assert.equal(probe.kind, "missing");
});

test("a missing env lists the Pythons from PATH and from uv, once per path", () => {
  const probe = parseEnvProbe(
    section(
      "uv /u/uv",
      "missing",
      "python 3.11.2 /usr/bin/python3",
      "python 3.11.2 /usr/bin/python3.11",
      "uvpython cpython-3.11.2-linux-x86_64-gnu    /usr/bin/python3.11",
      "uvpython cpython-3.12.4-linux-x86_64-gnu    /home/a/.local/share/uv/python/cpython-3.12.4/bin/python3.12",
      "uvpython cpython-3.13.0-linux-x86_64-gnu    <download available>",
    ),
  );
  assert.deepEqual(probe, {
    kind: "missing",
    uv: "/u/uv",
    envDir: null,
    broken: false,
    pythons: [
      { version: "3.11.2", path: "/usr/bin/python3" },
      { version: "3.11.2", path: "/usr/bin/python3.11" },
      { version: "3.12.4", path: "/home/a/.local/share/uv/python/cpython-3.12.4/bin/python3.12" },
    ],
  });
  const broken = parseEnvProbe(section("broken"));
  assert.equal(broken.kind === "missing" && broken.broken, true);
});

test("a state that is not envprobe.py's is named, never a raw SyntaxError", () => {
  const good = { python: "3.11.2", executable: "/x/python", markers: { python_version: "3.11" }, distributions: [{ name: "a", version: "1", requires: [], direct_url: null }], path: [] };
  assert.equal(parseEnvProbe(section(`state ${JSON.stringify(good)}`)).kind, "state");
  const bad = ["{truncated", "[]", "null", JSON.stringify({ ...good, distributions: "none" }), JSON.stringify({ ...good, markers: null })];
  for (const text of bad) assert.throws(() => parseEnvProbe(section(`state ${text}`)), /the remote env probe's state is not what envprobe.py prints/, text);
});

test("no section is an error that shows the output", () => {
  assert.throws(() => parseEnvProbe("bash: sh: not found"), /printed no "env" section:\nbash: sh: not found/);
});

test("the snippet matches the stamp by hash and by cache id, and only hex values reach grep", () => {
  const both = envProbeSnippet({ envDir: "/h/envs/p-py3.11", matchHash: "abc123", matchStampId: "0f0f" });
  assert.match(both, /grep -q -F -e '"hash":"abc123"' -e '"id":"0f0f"'/);
  const hostile = envProbeSnippet({ envDir: "/h/envs/p-py3.11", matchHash: "x'; rm -rf ~" });
  assert.doesNotMatch(hostile, /rm -rf/);
  assert.doesNotMatch(hostile, /^if .*grep/m, "no stamp shortcut without a valid value");
});
