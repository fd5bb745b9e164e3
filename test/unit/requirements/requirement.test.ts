import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatRequirement, parseRequirement, RequirementError } from "../../../src/envsync/requirements/index.js";

type Parsed = ReturnType<typeof parseRequirement>;
const req = (name: string, fields: Partial<Parsed> = {}): Parsed => ({
  name,
  extras: [],
  specifier: "",
  marker: null,
  url: null,
  ...fields,
});

// line -> the parsed requirement
const VALID: [string, Parsed][] = [
  ["requests", req("requests")],
  ["  requests  ", req("requests")],
  ["Foo_Bar.baz", req("Foo_Bar.baz")],
  ["a", req("a")],
  ["numpy==1.26.4", req("numpy", { specifier: "==1.26.4" })],
  ["numpy == 1.26.4", req("numpy", { specifier: "==1.26.4" })],
  ["numpy>=1.20,<2", req("numpy", { specifier: ">=1.20,<2" })],
  ["numpy >= 1.20 , < 2", req("numpy", { specifier: ">=1.20,<2" })],
  ["numpy (>=1.20,<2)", req("numpy", { specifier: ">=1.20,<2" })],
  ["numpy~=1.26.0", req("numpy", { specifier: "~=1.26.0" })],
  ["numpy==1.*", req("numpy", { specifier: "==1.*" })],
  ["numpy!=1.25.0", req("numpy", { specifier: "!=1.25.0" })],
  ["legacy===2004d", req("legacy", { specifier: "===2004d" })],
  ["torch==2.1.0+cu121", req("torch", { specifier: "==2.1.0+cu121" })],
  ["pkg==1.0rc1", req("pkg", { specifier: "==1.0rc1" })],
  ["pkg==1!2.0.post1.dev3", req("pkg", { specifier: "==1!2.0.post1.dev3" })],
  ["ray[default]", req("ray", { extras: ["default"] })],
  ["ray[default,tune]>=2.9", req("ray", { extras: ["default", "tune"], specifier: ">=2.9" })],
  ["ray [ default , tune ] >=2.9", req("ray", { extras: ["default", "tune"], specifier: ">=2.9" })],
  ["ray[]", req("ray")],
  ["ray[tune,tune]", req("ray", { extras: ["tune"] })],
  ['pywin32; sys_platform == "win32"', req("pywin32", { marker: 'sys_platform == "win32"' })],
  ["pywin32;sys_platform=='win32'", req("pywin32", { marker: "sys_platform=='win32'" })],
  [
    "dataclasses>=0.6; python_version < '3.7'",
    req("dataclasses", { specifier: ">=0.6", marker: "python_version < '3.7'" }),
  ],
  [
    "pkg[x]>=1; python_version >= '3.8' and (os_name == 'posix' or extra == 'y')",
    req("pkg", { extras: ["x"], specifier: ">=1", marker: "python_version >= '3.8' and (os_name == 'posix' or extra == 'y')" }),
  ],
  [
    "pkg @ https://example.org/pkg-1.0-py3-none-any.whl",
    req("pkg", { url: "https://example.org/pkg-1.0-py3-none-any.whl" }),
  ],
  ["pkg@https://example.org/pkg-1.0.tar.gz", req("pkg", { url: "https://example.org/pkg-1.0.tar.gz" })],
  [
    "pkg[x] @ git+https://github.com/o/pkg.git@v1.0",
    req("pkg", { extras: ["x"], url: "git+https://github.com/o/pkg.git@v1.0" }),
  ],
  [
    "pkg @ git+ssh://git@github.com/o/pkg.git@abc1234#subdirectory=sub",
    req("pkg", { url: "git+ssh://git@github.com/o/pkg.git@abc1234#subdirectory=sub" }),
  ],
  [
    "pkg @ file:///opt/wheels/pkg-1.0-py3-none-any.whl ; python_version > '3'",
    req("pkg", { url: "file:///opt/wheels/pkg-1.0-py3-none-any.whl", marker: "python_version > '3'" }),
  ],
];

// line -> the exact error message
const INVALID: [string, string][] = [
  ["", 'invalid requirement "": it is empty'],
  ["   ", 'invalid requirement "   ": it is empty'],
  ["-requests", 'invalid requirement "-requests": a requirement starts with a project name (letters, digits, and ".", "-", "_")'],
  ["==1.0", 'invalid requirement "==1.0": a requirement starts with a project name (letters, digits, and ".", "-", "_")'],
  [
    "numpy=>1.0",
    'invalid requirement "numpy=>1.0": "=>1.0" is not a valid version specifier (write for example ">=1.0", "==2.1.*" or ">=1,<2")',
  ],
  [
    "numpy>=",
    'invalid requirement "numpy>=": ">=" is not a valid version specifier (write for example ">=1.0", "==2.1.*" or ">=1,<2")',
  ],
  [
    "numpy 1.0",
    'invalid requirement "numpy 1.0": "1.0" is not a valid version specifier (write for example ">=1.0", "==2.1.*" or ">=1,<2")',
  ],
  [
    "numpy>=1.0,",
    'invalid requirement "numpy>=1.0,": ">=1.0," is not a valid version specifier (write for example ">=1.0", "==2.1.*" or ">=1,<2")',
  ],
  [
    "numpy~=1",
    'invalid requirement "numpy~=1": "~=1" is not a valid version specifier (write for example ">=1.0", "==2.1.*" or ">=1,<2")',
  ],
  [
    "numpy>=1.0+local",
    'invalid requirement "numpy>=1.0+local": ">=1.0+local" is not a valid version specifier (write for example ">=1.0", "==2.1.*" or ">=1,<2")',
  ],
  ["numpy (>=1.0", 'invalid requirement "numpy (>=1.0": the "(" around the version specifier is never closed'],
  ["ray[default", 'invalid requirement "ray[default": the "[" of the extras is never closed'],
  ["ray[de fault]", 'invalid requirement "ray[de fault]": "de fault" is not a valid extra name'],
  ["ray[-x]", 'invalid requirement "ray[-x]": "-x" is not a valid extra name'],
  ["pkg @", 'invalid requirement "pkg @": expected a URL after "@"'],
  [
    "pkg @ ./local/dir",
    'invalid requirement "pkg @ ./local/dir": "./local/dir" is not a URL (expected for example https://… or git+https://…)',
  ],
  [
    "pkg @ https://x.org/p.whl; python_version > '3'",
    'invalid requirement "pkg @ https://x.org/p.whl; python_version > \'3\'": put a space between the URL and ";"',
  ],
  [
    "pkg @ https://x.org/p.whl extra",
    'invalid requirement "pkg @ https://x.org/p.whl extra": expected ";" and a marker after the URL, found "extra"',
  ],
  ["pkg;", 'invalid requirement "pkg;": expected a marker after ";"'],
  [
    "pkg; python_version >",
    'invalid requirement "pkg; python_version >": invalid marker "python_version >": expected a variable or a quoted string at the end',
  ],
  [
    "pkg; pyhton_version > '3'",
    'invalid requirement "pkg; pyhton_version > \'3\'": invalid marker "pyhton_version > \'3\'": unknown variable "pyhton_version" (known: os_name, sys_platform, platform_machine, platform_python_implementation, platform_release, platform_system, platform_version, python_version, python_full_version, implementation_name, implementation_version, extra)',
  ],
  [
    "pkg; python_version > '3",
    'invalid requirement "pkg; python_version > \'3": invalid marker "python_version > \'3": unterminated string at position 18',
  ],
];

describe("parseRequirement", () => {
  test("the table holds at least 40 lines", () => {
    assert.ok(VALID.length + INVALID.length >= 40, `${VALID.length + INVALID.length} lines`);
  });

  for (const [line, expected] of VALID) {
    test(`parses ${JSON.stringify(line)}`, () => {
      assert.deepEqual(parseRequirement(line), expected);
    });
  }

  for (const [line, message] of INVALID) {
    test(`rejects ${JSON.stringify(line)}`, () => {
      assert.throws(
        () => parseRequirement(line),
        (error: unknown) => {
          assert.ok(error instanceof RequirementError);
          assert.equal(error.message, message);
          assert.equal(error.exitCode, 2);
          return true;
        },
      );
    });
  }
});

describe("formatRequirement", () => {
  const ROUND_TRIPS: [string, string, string][] = [
    // line, formatted with marker, formatted without
    ["ray [tune] >= 2.9 ; python_version > '3'", "ray[tune]>=2.9; python_version > '3'", "ray[tune]>=2.9"],
    ["pkg @ https://x.org/p.whl ; os_name == 'posix'", "pkg @ https://x.org/p.whl ; os_name == 'posix'", "pkg @ https://x.org/p.whl"],
    ["numpy", "numpy", "numpy"],
  ];
  for (const [line, withMarker, withoutMarker] of ROUND_TRIPS) {
    test(`formats ${JSON.stringify(line)}`, () => {
      const parsed = parseRequirement(line);
      assert.equal(formatRequirement(parsed), withMarker);
      assert.equal(formatRequirement(parsed, false), withoutMarker);
      assert.deepEqual(parseRequirement(formatRequirement(parsed)), parsed);
    });
  }
});
