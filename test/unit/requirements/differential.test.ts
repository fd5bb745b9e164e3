// Differential test against PyPA's `packaging` 26 (the reference implementation of PEP 440 and PEP 508):
// generated versions, specifiers and markers go to ONE python3 run, and every ordering, specifier check and
// marker result must agree. CI installs a pinned packaging for python3 (.ci/run); under CI=true a missing
// packaging is a failure, elsewhere the test is skipped with the command that installs it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { compareVersions, evaluateMarker, satisfies } from "../../../src/envsync/requirements/index.js";
import { isValidSpecifier } from "../../../src/envsync/requirements/versions.js";

const PYTHON = "python3";
const REQUIRED_MAJOR = "26";

// Local labels, epochs, pre/post/dev releases, and their combinations around the same few releases.
const SUFFIXES = ["", ".dev0", ".dev1", "a1", "a1.dev1", "rc1", ".post1", ".post2", ".post1.dev1", "+cpu", "+cu121", ".post1+cu121"];
const VERSIONS = [
  ...["1.0", "1.1", "2.0"].flatMap((release) => SUFFIXES.map((suffix) => release + suffix)),
  ...["0.9", "1", "1.0.0", "1.0.1", "1.0.0+cpu", "1.10", "1.1.0", "2.0.0a1", "2", "2.1", "3.0.dev0"],
  ...["1!0.5", "1!1.0", "1!1.0+cpu", "1!1.0.post1", "1!2.0", "1!2.0rc1", "0!1.0", "2!1.0"],
  ...["1.0-1", "1.0_a_1", "1.0RC1", "v1.0", "1.0+CPU", "1.0+cu.121", "1.0.post"],
];

const SPECIFIERS = [
  ...["==1.0", "==1.0+cpu", "==1.0+cu121", "!=1.0", "!=1.0+cpu", "===1.0", "===1.0+cu121", "==1.0.*", "!=1.0.*"],
  ...["==1!1.*", "==2.*", ">1.0", ">=1.0", "<1.0", "<=1.0", ">1.0.post1", "<1.0.dev1", "<1!2.0", ">1!1.0"],
  ...["~=1.0", "~=1.0.0", "~=1.0a1", "~=1.0.post1", ">1.0a1", "<1.0rc1", ">=1.0.dev0", "<1.0.post1", ">1.0.dev0"],
  ...[">=1.0,<2.0", ">=1!1.0,<1!2.0", "!=1.0.post1,>=1.0"],
];

// Valid and invalid spellings: both sides must accept and reject the same ones.
const SPELLINGS = [
  ...["==1.0.*", "!=1.0.*", "<=1.0.*", "==1.0a1.*", "==1.0+local", ">=1.0+local", "~=1", "~=1.0", "~=1.0.*", "==1!2.0"],
  ...["=== anything-goes", "== 1.0", ">= 1.0 , < 2", "=>1.0", "==1.0.dev1.*", ">1.0.post", "<1_0", "==v1.0", "~=1.0+cpu", ""],
];

const ENVIRONMENTS: Record<string, string>[] = [
  {
    os_name: "posix",
    sys_platform: "linux",
    platform_machine: "x86_64",
    platform_python_implementation: "CPython",
    platform_release: "6.1.0-18-amd64",
    platform_system: "Linux",
    platform_version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1",
    python_version: "3.11",
    python_full_version: "3.11.2",
    implementation_name: "cpython",
    implementation_version: "3.11.2",
  },
  {
    os_name: "nt",
    sys_platform: "win32",
    platform_machine: "AMD64",
    platform_python_implementation: "CPython",
    platform_release: "10",
    platform_system: "Windows",
    platform_version: "10.0.19045",
    python_version: "3.9",
    python_full_version: "3.9.0rc1",
    implementation_name: "cpython",
    implementation_version: "3.9.0rc1",
  },
];

const MARKERS = [
  ...['python_version < "3.10"', 'python_version >= "3.9"', "python_version > '3.9'", 'python_version == "3.*"', 'python_version ~= "3.8"'],
  ...['python_full_version >= "3.9.0"', 'python_full_version < "3.9"', 'python_full_version == "3.11.*"', '"3.10" > python_version'],
  ...['sys_platform == "linux" and platform_machine == "x86_64"', 'os_name == "nt" or sys_platform == "darwin"', '"linux" in sys_platform'],
  ...['platform_release >= "5"', 'implementation_name != "pypy" and (python_version < "3.8" or os_name == "nt")'],
  ...['platform_system not in "Linux Darwin"', 'extra == "Foo_Bar"', "platform_version >= '10.0'"],
];

interface Truth {
  version: string;
  orderings: number[][];
  checks: boolean[][];
  spellings: boolean[];
  markers: boolean[][];
}

// packaging's answers: orderings[i][j] for VERSIONS, checks[v][s], markers[e][m].
const REFERENCE = `
import json, sys
import packaging
from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
data = json.load(sys.stdin)
versions = [Version(v) for v in data["versions"]]
def cmp(a, b):
    return (a > b) - (a < b)
def valid(spec):
    try:
        SpecifierSet(spec)
        return True
    except InvalidSpecifier:
        return False
out = {
    "version": packaging.__version__,
    "orderings": [[cmp(a, b) for b in versions] for a in versions],
    "checks": [[SpecifierSet(s).contains(v, prereleases=True) for s in data["specifiers"]] for v in data["versions"]],
    "spellings": [valid(s) for s in data["spellings"]],
    "markers": [[Marker(m).evaluate(dict(env, extra="foo-bar")) for m in data["markers"]] for env in data["environments"]],
}
json.dump(out, sys.stdout)
`;

function reference(): Truth | string {
  const input = JSON.stringify({ versions: VERSIONS, specifiers: SPECIFIERS, spellings: SPELLINGS, markers: MARKERS, environments: ENVIRONMENTS });
  try {
    return JSON.parse(execFileSync(PYTHON, ["-c", REFERENCE], { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] })) as Truth;
  } catch (error) {
    return String((error as { stderr?: string }).stderr || error);
  }
}

test(`PEP 440 / PEP 508 agree with packaging ${REQUIRED_MAJOR}.x: ${VERSIONS.length} versions, ${SPECIFIERS.length} specifiers, ${MARKERS.length * ENVIRONMENTS.length} marker cases`, (t) => {
  const truth = reference();
  const fix = `install it with: ${PYTHON} -m pip install 'packaging==${REQUIRED_MAJOR}.*'`;
  if (typeof truth === "string" || !truth.version.startsWith(`${REQUIRED_MAJOR}.`)) {
    const why = typeof truth === "string" ? truth.trim().split("\n").at(-1) : `packaging ${truth.version} found`;
    const message = `the reference needs packaging ${REQUIRED_MAJOR}.x for ${PYTHON} (${why}); ${fix}`;
    if (process.env["CI"] === "true") assert.fail(message);
    t.skip(message);
    return;
  }
  const differences: string[] = [];
  let orderings = 0;
  for (let i = 0; i < VERSIONS.length; i++) {
    for (let j = i + 1; j < VERSIONS.length; j++) {
      orderings++;
      const [a, b, truthOrder] = [VERSIONS[i]!, VERSIONS[j]!, truth.orderings[i]![j]];
      const ours = compareVersions(a, b);
      if (ours !== truthOrder) differences.push(`compare(${a}, ${b}): ours ${ours}, packaging ${truthOrder}`);
    }
  }
  for (const [v, version] of VERSIONS.entries()) {
    for (const [s, specifier] of SPECIFIERS.entries()) {
      const ours = satisfies(version, specifier);
      if (ours !== truth.checks[v]![s]) differences.push(`${version} in "${specifier}": ours ${ours}, packaging ${truth.checks[v]![s]}`);
    }
  }
  for (const [i, spelling] of SPELLINGS.entries()) {
    const ours = isValidSpecifier(spelling);
    if (ours !== truth.spellings[i]) differences.push(`specifier "${spelling}" valid: ours ${ours}, packaging ${truth.spellings[i]}`);
  }
  for (const [e, env] of ENVIRONMENTS.entries()) {
    for (const [m, marker] of MARKERS.entries()) {
      const ours = evaluateMarker(marker, { ...env, extra: "foo-bar" });
      if (ours !== truth.markers[e]![m]) differences.push(`marker ${marker} on ${env["sys_platform"]}: ours ${ours}, packaging ${truth.markers[e]![m]}`);
    }
  }
  assert.equal(orderings, (VERSIONS.length * (VERSIONS.length - 1)) / 2);
  assert.deepEqual(differences, [], `packaging ${truth.version} disagrees ${differences.length} time(s)`);
});
