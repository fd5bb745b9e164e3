// Reading uv's and pip's reports of a failed install: which exact pins have no distribution for the remote.
// The texts are real: uv 0.13.9 and pip 23.2.1 run here against a find-links wheelhouse holding
// pkgx-1.0-py3-none-win_amd64.whl, pkgy-1.0-py3-none-win_amd64.whl, pkgw-2.0-py3-none-any.whl,
// alpha-1.0-py3-none-any.whl and delta-1.0-py3-none-any.whl (which requires pkgx), with `-c` holding pkgx==1.0;
// the uv build failure and pip's index error are shaped after those installers' reports (marked below).
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { envCachePath, readEnvCache, writeEnvCache } from "../../../src/envsync/cache.js";
import { snapshotHash } from "../../../src/envsync/snapshot.js";
import {
  type Pin,
  pinsOf,
  platformOf,
  stillPinned,
  topLevelWarning,
  unavailablePins,
  withoutUnavailable,
} from "../../../src/envsync/unavailable.js";
import { scratchDir } from "../../helpers/scratch.js";

const UV_TOP = `Using Python 3.11.7 environment at: e
error: No solution found when resolving dependencies
  cause: Because pkgx==1.0 has no wheels with a matching platform tag (e.g., \`manylinux_2_36_x86_64\`) and you require pkgx==1.0, we can conclude that your requirements are unsatisfiable.

hint: Wheels are available for \`pkgx\` (v1.0) on the following platform: \`win_amd64\``;
const UV_CONSTRAINT = `Using Python 3.11.7 environment at: e
error: No solution found when resolving dependencies
  cause: Because pkgx==1.0 has no wheels with a matching platform tag (e.g., \`manylinux_2_36_x86_64\`) and all versions of delta depend on pkgx==1.0, we can conclude that all versions of delta cannot be used.
         And because you require delta==1.0, we can conclude that your requirements are unsatisfiable.

hint: Wheels are available for \`pkgx\` (v1.0) on the following platform: \`win_amd64\``;
// An older uv on a terminal: its report wrapped to the width.
const UV_WRAPPED = `Using Python 3.11.2 environment at: /e
  × No solution found when resolving dependencies:
  ╰─▶ Because only maconly==1.0 is available and maconly==1.0 has no wheels with a matching platform tag
      (e.g., \`manylinux_2_36_x86_64\`), we can conclude that maconly==1.0 cannot be used.
      And because you require maconly==1.0, we can conclude that your requirements are unsatisfiable.`;
const UV_NO_VERSION = `Using Python 3.11.7 environment at: e
error: No solution found when resolving dependencies
  cause: Because there is no version of pkgw==1.0 and you require pkgw==1.0, we can conclude that your requirements are unsatisfiable.`;
const UV_NOT_FOUND = `Using Python 3.11.7 environment at: e
error: No solution found when resolving dependencies
  cause: Because nothere was not found in the provided package locations and you require nothere==1.0, we can conclude that your requirements are unsatisfiable.`;
const UV_NETWORK = "error: Failed to fetch: `http://127.0.0.1:9/simple/pkgx/`\n  Caused by: error sending request\n  Caused by: Connection refused (os error 111)";
// Shaped after uv's build failure report.
const UV_BUILD = `Resolved 2 packages in 10ms
  × Failed to build \`brokenpkg==2.0\`
  ├─▶ The build backend returned an error
  ╰─▶ Call to \`setuptools.build_meta.build_wheel\` failed (exit status: 1)`;

const PIP_TOP = `Looking in links: /opt/wheels, wh
Processing ./wh/alpha-1.0-py3-none-any.whl
ERROR: Could not find a version that satisfies the requirement pkgx==1.0 (from versions: none)
ERROR: No matching distribution found for pkgx==1.0`;
const PIP_OTHER_VERSION = `Looking in links: /opt/wheels, wh
ERROR: Could not find a version that satisfies the requirement pkgw==1.0 (from versions: 2.0)
ERROR: No matching distribution found for pkgw==1.0`;
const pipConflict = (lines: string): string => `Looking in links: wh
Processing ./wh/delta-1.0-py3-none-any.whl
INFO: pip is looking at multiple versions of delta to determine which version is compatible with other requirements. This could take a while.
ERROR: Cannot install delta==1.0 because these package versions have conflicting dependencies.

The conflict is caused by:
${lines}

To fix this you could try to:
1. loosen the range of package versions you've specified
2. remove package versions to allow pip attempt to solve the dependency conflict

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts`;
const PIP_CONSTRAINT = pipConflict("    delta 1.0 depends on pkgx\n    The user requested (constraint) pkgx==1.0");
// A real conflict: needsnew asks alpha >= 2.0 while the local env pins alpha 1.0.
const PIP_REAL_CONFLICT = pipConflict("    needsnew 1.0 depends on alpha>=2.0\n    The user requested (constraint) alpha==1.0");
// pip with an unreachable index ends with the same "from versions: none".
const PIP_NETWORK = `Looking in indexes: http://127.0.0.1:9/simple/
WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPConnection object at 0x7fe9af3903d0>: Failed to establish a new connection: [Errno 111] Connection refused')': /simple/pkgx/
ERROR: Could not find a version that satisfies the requirement pkgx==1.0 (from versions: none)
ERROR: No matching distribution found for pkgx==1.0`;
// Shaped after pip's report when the index answers with an HTTP error.
const PIP_INDEX_ERROR = `Looking in indexes: https://idx/simple/
  Could not fetch URL https://idx/simple/pkgx/: 403 Client Error: Forbidden - skipping
ERROR: Could not find a version that satisfies the requirement pkgx==1.0 (from versions: none)
ERROR: No matching distribution found for pkgx==1.0`;

const PINS: Pin[] = [
  { name: "alpha", version: "1.0" },
  { name: "delta", version: "1.0" },
  { name: "pkgx", version: "1.0" },
  { name: "pkgw", version: "1.0" },
  { name: "maconly", version: "1.0" },
  { name: "nothere", version: "1.0" },
];
const pkgx = [{ name: "pkgx", version: "1.0" }];

test("uv: a pin with wheels for another platform only, asked directly or through a constraint", () => {
  assert.deepEqual(unavailablePins(UV_TOP, PINS), pkgx);
  assert.deepEqual(unavailablePins(UV_CONSTRAINT, PINS), pkgx, "delta is not blamed: it fails only because of pkgx");
  assert.deepEqual(unavailablePins(UV_WRAPPED, PINS), [{ name: "maconly", version: "1.0" }]);
});

test("uv: a pinned version the index lacks, or a name it lacks", () => {
  assert.deepEqual(unavailablePins(UV_NO_VERSION, PINS), [{ name: "pkgw", version: "1.0" }]);
  assert.deepEqual(unavailablePins(UV_NOT_FOUND, PINS), [{ name: "nothere", version: "1.0" }]);
});

test("only the exact pin counts: another version, or a name not pinned, is not skipped", () => {
  assert.deepEqual(unavailablePins(UV_TOP, [{ name: "pkgx", version: "2.0" }]), []);
  assert.deepEqual(unavailablePins(UV_TOP, [{ name: "pkg", version: "1.0" }]), [], "a prefix of the name");
  assert.deepEqual(unavailablePins(PIP_TOP, [{ name: "pkgx", version: "1.0.1" }]), []);
  assert.deepEqual(unavailablePins(UV_TOP, []), []);
});

test("pip: no matching distribution for the pin, with no version there or only others", () => {
  assert.deepEqual(unavailablePins(PIP_TOP, PINS), pkgx);
  assert.deepEqual(unavailablePins(PIP_OTHER_VERSION, PINS), [{ name: "pkgw", version: "1.0" }]);
  assert.deepEqual(unavailablePins(PIP_TOP.replaceAll("pkgx", "Pkg_X"), [{ name: "pkg-x", version: "1.0" }]), [{ name: "pkg-x", version: "1.0" }]);
});

test("pip: a conflict where nothing conflicts but the constraint's missing file is read as unavailable; a real conflict is not", () => {
  assert.deepEqual(unavailablePins(PIP_CONSTRAINT, PINS), pkgx);
  assert.deepEqual(unavailablePins(PIP_REAL_CONFLICT, [...PINS, { name: "needsnew", version: "1.0" }]), []);
  const unpinned = pipConflict("    delta 1.0 depends on pkgx\n    The user requested (constraint) pkgx==1.0\n    The user requested other>=2");
  assert.deepEqual(unavailablePins(unpinned, PINS), [], "a line about a distribution not pinned");
});

test("a network, index, disk or build failure is never read as unavailable", () => {
  for (const stderr of [UV_NETWORK, UV_BUILD, PIP_NETWORK, PIP_INDEX_ERROR, `${PIP_TOP}\nOSError: [Errno 28] No space left on device`]) {
    assert.deepEqual(unavailablePins(stderr, PINS), [], stderr);
  }
  const tls = `${UV_TOP}\n  Caused by: invalid peer certificate: UnknownIssuer`;
  assert.deepEqual(unavailablePins(tls, PINS), []);
});

test("pins are exact ==versions; URLs, ranges and wildcards are not pins", () => {
  assert.deepEqual(pinsOf(["alpha==1.0", "beta>=2", "gamma==1.*", "delta @ https://x/d.whl", "eps===2.0", "Zeta_Z==3.0+cpu"]), [
    { name: "alpha", version: "1.0" },
    { name: "eps", version: "2.0" },
    { name: "zeta-z", version: "3.0+cpu" },
  ]);
});

const SNAPSHOT = {
  requirements: ["alpha==1.0", "pkgx==1.0"],
  constraints: ["epsilon==1.0", "winonly==1.0"],
  hash: snapshotHash("3.11", ["alpha==1.0", "pkgx==1.0"], ["epsilon==1.0", "winonly==1.0"]),
  pythonVersion: "3.11",
  editablesOutside: [],
  source: "test",
};

test("the snapshot without the unavailable pins keeps its hash (the stamp still records the local env)", () => {
  const without = withoutUnavailable(SNAPSHOT, [...pkgx, { name: "winonly", version: "1.0" }]);
  assert.deepEqual([without.requirements, without.constraints, without.hash], [["alpha==1.0"], ["epsilon==1.0"], SNAPSHOT.hash]);
  assert.equal(withoutUnavailable(SNAPSHOT, []), SNAPSHOT);
});

test("a pin remembered unavailable counts only while the local version is the same", () => {
  assert.deepEqual(stillPinned(SNAPSHOT, [...pkgx, { name: "winonly", version: "0.9" }, { name: "gone", version: "1.0" }]), pkgx);
});

test("the reason names the remote platform; a top-level one gets a warning", () => {
  const markers = { sys_platform: "linux", platform_machine: "x86_64", python_version: "3.11", implementation_name: "cpython" };
  assert.equal(platformOf(markers), " (linux x86_64, cp311)");
  assert.equal(platformOf(null), "");
  assert.match(topLevelWarning(SNAPSHOT, pkgx) ?? "", /^pkgx 1\.0 \(a top-level requirement\) cannot be installed on the target.*ImportError/);
  assert.equal(topLevelWarning(SNAPSHOT, [{ name: "winonly", version: "1.0" }]), null, "a dependency: listed in env.skipped, no warning");
});

test("the env cache keeps the unavailable pins and refuses a malformed list", () => {
  const key = { cacheDir: scratchDir("sr-unavail-"), targetKey: "t", envDir: "/e/p-py3.11" };
  try {
    writeEnvCache(key, { stampId: "s1", state: null, unavailable: pkgx });
    assert.deepEqual(readEnvCache(key)?.unavailable, pkgx);
    writeFileSync(envCachePath(key), JSON.stringify({ stampId: "s1", state: null, unavailable: [{ name: "pkgx" }] }));
    assert.equal(readEnvCache(key), null, "an entry without a version is dropped, and the env probed afresh");
  } finally {
    rmSync(key.cacheDir, { recursive: true, force: true });
  }
});
