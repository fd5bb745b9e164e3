import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type InstalledDistribution,
  installArgs,
  type PlanAction,
  type PlanOptions,
  planChanges,
  planEnvironment,
  reinstallNames,
  uninstallArgs,
} from "../../../src/envsync/plan.js";
import type { MarkerEnvironment } from "../../../src/envsync/requirements/index.js";

// The REMOTE: Linux, CPython 3.11.
const REMOTE: MarkerEnvironment = {
  os_name: "posix",
  sys_platform: "linux",
  platform_machine: "x86_64",
  platform_python_implementation: "CPython",
  platform_release: "6.1.0",
  platform_system: "Linux",
  platform_version: "#1 SMP",
  python_version: "3.11",
  python_full_version: "3.11.2",
  implementation_name: "cpython",
  implementation_version: "3.11.2",
};
const STRICT: PlanOptions = { strictVersions: true, exact: false };
const LOOSE: PlanOptions = { strictVersions: false, exact: false };
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

type Row = [name: string, action: PlanAction, from: string | null, to: string | null, requirement: string, reason: string];
interface Case {
  title: string;
  wanted: string[];
  installed: InstalledDistribution[];
  options: PlanOptions;
  expected: Row[];
}

const dist = (name: string, version: string, directUrl?: InstalledDistribution["directUrl"]): InstalledDistribution =>
  directUrl === undefined ? { name, version } : { name, version, directUrl };

const CASES: Case[] = [
  {
    title: "a missing package is installed",
    wanted: ["numpy==1.26.4"],
    installed: [],
    options: STRICT,
    expected: [["numpy", "install", null, "1.26.4", "numpy==1.26.4", "not installed on the remote, wanted 1.26.4"]],
  },
  {
    title: "a missing unpinned package is installed, any version",
    wanted: ["ray[default]"],
    installed: [],
    options: STRICT,
    expected: [["ray", "install", null, null, "ray[default]", "not installed on the remote"]],
  },
  {
    title: "an older remote version is upgraded, a newer one downgraded, an equal one kept",
    wanted: ["a==2.1.0", "b==1.0", "c==3.0"],
    installed: [dist("a", "2.0.3"), dist("b", "1.2"), dist("c", "3.0.0")],
    options: STRICT,
    expected: [
      ["a", "upgrade", "2.0.3", "2.1.0", "a==2.1.0", "local 2.1.0, remote 2.0.3"],
      ["b", "downgrade", "1.2", "1.0", "b==1.0", "local 1.0, remote 1.2"],
      ["c", "keep", "3.0.0", "3.0", "c==3.0", "local 3.0, remote 3.0.0"],
    ],
  },
  {
    title: "pre-, post- and dev-releases order by PEP 440",
    wanted: ["a==2.0", "b==2.0rc1", "c==1.0.post1", "d==1.0.dev1"],
    installed: [dist("a", "2.0rc2"), dist("b", "2.0"), dist("c", "1.0"), dist("d", "1.0a1")],
    options: STRICT,
    expected: [
      ["a", "upgrade", "2.0rc2", "2.0", "a==2.0", "local 2.0, remote 2.0rc2"],
      ["b", "downgrade", "2.0", "2.0rc1", "b==2.0rc1", "local 2.0rc1, remote 2.0"],
      ["c", "upgrade", "1.0", "1.0.post1", "c==1.0.post1", "local 1.0.post1, remote 1.0"],
      ["d", "downgrade", "1.0a1", "1.0.dev1", "d==1.0.dev1", "local 1.0.dev1, remote 1.0a1"],
    ],
  },
  {
    title: "strict: a different local label must change, and is flagged for a forced reinstall",
    wanted: ["torch==2.1.0", "vision==0.16.0+cu121"],
    installed: [dist("torch", "2.1.0+cu121"), dist("vision", "0.16.0")],
    options: STRICT,
    expected: [
      ["torch", "downgrade", "2.1.0+cu121", "2.1.0", "torch==2.1.0", "local 2.1.0, remote 2.1.0+cu121"],
      ["vision", "upgrade", "0.16.0", "0.16.0+cu121", "vision==0.16.0+cu121", "local 0.16.0+cu121, remote 0.16.0"],
    ],
  },
  {
    title: "non-strict: a remote version satisfying the pin is kept (local label ignored)",
    wanted: ["torch==2.1.0", "vision==0.16.0+cu121"],
    installed: [dist("torch", "2.1.0+cu121"), dist("vision", "0.16.0")],
    options: LOOSE,
    expected: [
      ["torch", "keep", "2.1.0+cu121", "2.1.0", "torch==2.1.0", "remote 2.1.0+cu121 satisfies ==2.1.0"],
      ["vision", "upgrade", "0.16.0", "0.16.0+cu121", "vision==0.16.0+cu121", "remote 0.16.0 does not satisfy ==0.16.0+cu121"],
    ],
  },
  {
    title: "strict: +cpu on the remote against a local +cu121 (and the other way round) changes",
    wanted: ["torch==2.4.0+cu121", "vision==0.19.0+cpu"],
    installed: [dist("torch", "2.4.0+cpu"), dist("vision", "0.19.0+cu121")],
    options: STRICT,
    expected: [
      ["torch", "upgrade", "2.4.0+cpu", "2.4.0+cu121", "torch==2.4.0+cu121", "local 2.4.0+cu121, remote 2.4.0+cpu"],
      ["vision", "downgrade", "0.19.0+cu121", "0.19.0+cpu", "vision==0.19.0+cpu", "local 0.19.0+cpu, remote 0.19.0+cu121"],
    ],
  },
  {
    title: "non-strict: +cpu does not satisfy ==…+cu121 (PEP 440), so it changes too",
    wanted: ["torch==2.4.0+cu121", "vision==0.19.0+cpu"],
    installed: [dist("torch", "2.4.0+cpu"), dist("vision", "0.19.0+cu121")],
    options: LOOSE,
    expected: [
      ["torch", "upgrade", "2.4.0+cpu", "2.4.0+cu121", "torch==2.4.0+cu121", "remote 2.4.0+cpu does not satisfy ==2.4.0+cu121"],
      ["vision", "downgrade", "0.19.0+cu121", "0.19.0+cpu", "vision==0.19.0+cpu", "remote 0.19.0+cu121 does not satisfy ==0.19.0+cpu"],
    ],
  },
  {
    title: "specifier sets: kept when satisfied, else moved towards the failed bound",
    wanted: ["a>=1.0,<2", "b>=1.0,<2", "c>=1.0,<2", "d~=1.4.2", "e~=1.4.2", "f==1.7.*", "g!=1.5", "h"],
    installed: [
      dist("a", "1.5"),
      dist("b", "0.9"),
      dist("c", "2.0"),
      dist("d", "1.3"),
      dist("e", "1.5.0"),
      dist("f", "1.8"),
      dist("g", "1.5"),
      dist("h", "0.0.1"),
    ],
    options: STRICT,
    expected: [
      ["a", "keep", "1.5", ">=1.0,<2", "a>=1.0,<2", "remote 1.5 satisfies >=1.0,<2"],
      ["b", "upgrade", "0.9", ">=1.0,<2", "b>=1.0,<2", "remote 0.9 does not satisfy >=1.0,<2"],
      ["c", "downgrade", "2.0", ">=1.0,<2", "c>=1.0,<2", "remote 2.0 does not satisfy >=1.0,<2"],
      ["d", "upgrade", "1.3", "~=1.4.2", "d~=1.4.2", "remote 1.3 does not satisfy ~=1.4.2"],
      ["e", "downgrade", "1.5.0", "~=1.4.2", "e~=1.4.2", "remote 1.5.0 does not satisfy ~=1.4.2"],
      ["f", "downgrade", "1.8", "==1.7.*", "f==1.7.*", "remote 1.8 does not satisfy ==1.7.*"],
      ["g", "upgrade", "1.5", "!=1.5", "g!=1.5", "remote 1.5 does not satisfy !=1.5"],
      ["h", "keep", "0.0.1", null, "h", "remote 0.0.1, any version wanted"],
    ],
  },
  {
    title: "names are compared normalised; the wanted spelling is shown",
    wanted: ["PyYAML==6.0.1", "typing_extensions==4.9.0", "Zope.Interface==6.1"],
    installed: [dist("pyyaml", "6.0.1"), dist("typing-extensions", "4.8.0"), dist("zope-interface", "6.1")],
    options: STRICT,
    expected: [
      ["PyYAML", "keep", "6.0.1", "6.0.1", "PyYAML==6.0.1", "local 6.0.1, remote 6.0.1"],
      ["typing_extensions", "upgrade", "4.8.0", "4.9.0", "typing_extensions==4.9.0", "local 4.9.0, remote 4.8.0"],
      ["Zope.Interface", "keep", "6.1", "6.1", "Zope.Interface==6.1", "local 6.1, remote 6.1"],
    ],
  },
  {
    title: "markers are evaluated against the remote: false means skipped, true means planned",
    wanted: [
      'pywin32==306; sys_platform == "win32"',
      'appnope==0.1.3; platform_system == "Darwin" and python_version >= "3.8"',
      'tomli==2.0.1; python_version < "3.12"',
    ],
    installed: [],
    options: STRICT,
    expected: [
      [
        "appnope",
        "skip-marker",
        null,
        null,
        'appnope==0.1.3; platform_system == "Darwin" and python_version >= "3.8"',
        'marker platform_system == "Darwin" and python_version >= "3.8" is false on the remote (platform_system = "Linux", python_version = "3.11")',
      ],
      [
        "pywin32",
        "skip-marker",
        null,
        null,
        'pywin32==306; sys_platform == "win32"',
        'marker sys_platform == "win32" is false on the remote (sys_platform = "linux")',
      ],
      ["tomli", "install", null, "2.0.1", "tomli==2.0.1", "not installed on the remote, wanted 2.0.1"],
    ],
  },
  {
    title: "two lines for one name: the one whose marker holds remotely wins; no skip entry is added",
    wanted: ['numpy==1.24.4; python_version < "3.9"', 'numpy==1.26.4; python_version >= "3.9"'],
    installed: [dist("numpy", "1.24.4")],
    options: STRICT,
    expected: [["numpy", "upgrade", "1.24.4", "1.26.4", "numpy==1.26.4", "local 1.26.4, remote 1.24.4"]],
  },
  {
    title: "two active lines for one name merge their specifiers and extras",
    wanted: ["ray[default]>=2.9", "ray[tune]<3"],
    installed: [dist("ray", "2.8.0")],
    options: STRICT,
    expected: [["ray", "upgrade", "2.8.0", ">=2.9,<3", "ray[default,tune]>=2.9,<3", "remote 2.8.0 does not satisfy >=2.9,<3"]],
  },
  {
    title: "URL pins: the same URL and ref is kept; another ref, another URL or an index install changes",
    wanted: [
      "same @ git+https://github.com/o/same.git@v1",
      "commit @ git+https://github.com/o/commit.git@0123456",
      "moved @ git+https://github.com/o/moved.git@v2",
      "indexed @ https://files.example/indexed-1.0-py3-none-any.whl",
    ],
    installed: [
      dist("same", "1.0", { url: "https://github.com/o/same.git", vcs_info: { vcs: "git", commit_id: COMMIT, requested_revision: "v1" } }),
      dist("commit", "0.1", { url: "https://github.com/o/commit", vcs_info: { vcs: "git", commit_id: COMMIT } }),
      dist("moved", "1.0", "git+https://github.com/o/moved.git@v1"),
      dist("indexed", "1.0"),
    ],
    options: STRICT,
    expected: [
      [
        "commit",
        "keep",
        "0.1",
        "git+https://github.com/o/commit.git@0123456",
        "commit @ git+https://github.com/o/commit.git@0123456",
        "remote 0.1 installed from git+https://github.com/o/commit.git@0123456",
      ],
      [
        "indexed",
        "upgrade",
        "1.0",
        "https://files.example/indexed-1.0-py3-none-any.whl",
        "indexed @ https://files.example/indexed-1.0-py3-none-any.whl",
        "remote 1.0 came from a package index, wanted https://files.example/indexed-1.0-py3-none-any.whl",
      ],
      [
        "moved",
        "upgrade",
        "1.0",
        "git+https://github.com/o/moved.git@v2",
        "moved @ git+https://github.com/o/moved.git@v2",
        "remote 1.0 came from git+https://github.com/o/moved.git@v1, wanted git+https://github.com/o/moved.git@v2",
      ],
      [
        "same",
        "keep",
        "1.0",
        "git+https://github.com/o/same.git@v1",
        "same @ git+https://github.com/o/same.git@v1",
        "remote 1.0 installed from git+https://github.com/o/same.git@v1",
      ],
    ],
  },
  {
    title: "exact: what nothing wanted needs goes, with the dependencies only it needed; tooling and what wanted ones need stay",
    wanted: ["numpy==1.26.4", 'pywin32==306; sys_platform == "win32"', "ray[default]==2.9"],
    installed: [
      { ...dist("numpy", "1.26.4"), requires: ["six"] },
      { ...dist("Old_Tool", "0.3"), requires: ["helper>=1", 'winhelper; sys_platform == "win32"'] },
      dist("helper", "1.0"),
      dist("winhelper", "1.0"),
      dist("pip", "24.0"),
      dist("six", "1.16.0"),
      dist("pywin32", "306"),
      { ...dist("ray", "2.9"), requires: ["click", 'aiohttp; extra == "default"', 'gputil; extra == "gpu"'] },
      dist("click", "8.1"),
      dist("aiohttp", "3.9"),
      dist("gputil", "1.4"),
    ],
    options: { strictVersions: true, exact: true },
    expected: [
      ["aiohttp", "extra-needed", "3.9", null, "aiohttp", "beyond the snapshot, but a wanted package needs it on the remote (--exact keeps it)"],
      ["click", "extra-needed", "8.1", null, "click", "beyond the snapshot, but a wanted package needs it on the remote (--exact keeps it)"],
      ["gputil", "remove", "1.4", null, "gputil", "beyond the snapshot, and nothing wanted needs it (--exact)"],
      ["helper", "remove", "1.0", null, "helper", "beyond the snapshot, and nothing wanted needs it (--exact)"],
      ["numpy", "keep", "1.26.4", "1.26.4", "numpy==1.26.4", "local 1.26.4, remote 1.26.4"],
      ["Old_Tool", "remove", "0.3", null, "Old_Tool", "beyond the snapshot, and nothing wanted needs it (--exact)"],
      [
        "pywin32",
        "skip-marker",
        "306",
        null,
        'pywin32==306; sys_platform == "win32"',
        'marker sys_platform == "win32" is false on the remote (sys_platform = "linux")',
      ],
      ["pywin32", "remove", "306", null, "pywin32", "beyond the snapshot, and nothing wanted needs it (--exact)"],
      ["ray", "keep", "2.9", "2.9", "ray[default]==2.9", "local 2.9, remote 2.9"],
      ["six", "extra-needed", "1.16.0", null, "six", "beyond the snapshot, but a wanted package needs it on the remote (--exact keeps it)"],
      ["winhelper", "remove", "1.0", null, "winhelper", "beyond the snapshot, and nothing wanted needs it (--exact)"],
    ],
  },
  {
    title: "without exact nothing is removed: what the remote holds beyond the snapshot is listed",
    wanted: ["numpy==1.26.4"],
    installed: [dist("numpy", "1.26.4"), dist("old-tool", "0.3")],
    options: { strictVersions: true, exact: false },
    expected: [
      ["numpy", "keep", "1.26.4", "1.26.4", "numpy==1.26.4", "local 1.26.4, remote 1.26.4"],
      ["old-tool", "extra", "0.3", null, "old-tool", "beyond the snapshot, and nothing wanted needs it: --exact would remove it"],
    ],
  },
];

describe("planEnvironment", () => {
  for (const { title, wanted, installed, options, expected } of CASES) {
    test(title, () => {
      const plan = planEnvironment({ wanted, installed, environment: REMOTE, options });
      const rows = plan.entries.map((e): Row => [e.name, e.action, e.from, e.to, e.requirement, e.reason]);
      assert.deepEqual(rows, expected);
    });
  }

  test("one changed version among 30 gives exactly one change and one install argument", () => {
    const names = Array.from({ length: 30 }, (_, i) => `pkg${i}`);
    const installed = names.map((name) => dist(name, "1.0.0"));
    const wanted = names.map((name) => `${name}==${name === "pkg17" ? "1.0.1" : "1.0"}`);
    const plan = planEnvironment({ wanted, installed, environment: REMOTE, options: STRICT });
    assert.deepEqual(planChanges(plan).map((e) => e.name), ["pkg17"]);
    assert.deepEqual(installArgs(plan), ["pkg17==1.0.1"]);
  });

  test("helpers: changes exclude keep and skip-marker; install, reinstall and uninstall arguments", () => {
    const plan = planEnvironment({
      wanted: ["new==1.0", "up==2.0", "same==1.0", "torch==2.1.0", 'win==1; sys_platform == "win32"'],
      installed: [dist("up", "1.0"), dist("same", "1.0"), dist("torch", "2.1.0+cu121"), dist("gone", "1.0")],
      environment: REMOTE,
      options: { strictVersions: true, exact: true },
    });
    assert.deepEqual(
      planChanges(plan).map((e) => [e.name, e.action]),
      [
        ["gone", "remove"],
        ["new", "install"],
        ["torch", "downgrade"],
        ["up", "upgrade"],
      ],
    );
    assert.deepEqual(installArgs(plan), ["new==1.0", "torch==2.1.0", "up==2.0"]);
    assert.deepEqual(reinstallNames(plan), ["torch"]);
    assert.deepEqual(uninstallArgs(plan), ["gone"]);
  });

  test("a label change the installer sees by itself is not forced; a pin met by a labelled version is", () => {
    const plan = planEnvironment({
      wanted: ["torch==2.4.0+cu121", "numpy==1.26.4"],
      installed: [dist("torch", "2.4.0+cpu"), dist("numpy", "1.26.4+mkl")],
      environment: REMOTE,
      options: STRICT,
    });
    assert.deepEqual(reinstallNames(plan), ["numpy"]);
  });

  test("nothing to do gives an empty change list", () => {
    const plan = planEnvironment({
      wanted: ["a==1.0", 'b==1; os_name == "nt"'],
      installed: [dist("a", "1.0.0")],
      environment: REMOTE,
      options: STRICT,
    });
    assert.deepEqual(planChanges(plan), []);
    assert.deepEqual(installArgs(plan), []);
  });

  test("conflicting URL sources for one name are an error naming both", () => {
    assert.throws(
      () =>
        planEnvironment({
          wanted: ["tool @ git+https://github.com/o/tool@v1", "tool==1.0"],
          installed: [],
          environment: REMOTE,
          options: STRICT,
        }),
      {
        name: "RequirementError",
        message: '"tool" is required twice with different sources ("tool @ git+https://github.com/o/tool@v1" and "tool==1.0"); keep one',
      },
    );
  });

  test("an invalid wanted line is a RequirementError before anything is planned", () => {
    assert.throws(() => planEnvironment({ wanted: ["numpy=>1"], installed: [], environment: REMOTE, options: STRICT }), {
      name: "RequirementError",
    });
  });
});
