import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { evaluateMarker, MARKER_VARIABLES, type MarkerEnvironment } from "../../../src/envsync/requirements/index.js";
import { markerVariables } from "../../../src/envsync/requirements/markers.js";

// A Linux CPython 3.11 remote, as the remote-state probe reports it.
const LINUX: MarkerEnvironment = {
  os_name: "posix",
  sys_platform: "linux",
  platform_machine: "x86_64",
  platform_python_implementation: "CPython",
  platform_release: "6.1.0-18-amd64",
  platform_system: "Linux",
  platform_version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
  python_version: "3.11",
  python_full_version: "3.11.2",
  implementation_name: "cpython",
  implementation_version: "3.11.2",
};

describe("evaluateMarker", () => {
  test("the environment type covers every PEP 508 variable", () => {
    assert.deepEqual(Object.keys(LINUX).sort(), [...MARKER_VARIABLES].sort());
  });

  // marker, expected on LINUX
  const CASES: [string, boolean][] = [
    ['python_version < "3.9"', false],
    ['python_version >= "3.8"', true],
    ["python_version > '3.9'", true],
    ['python_version == "3.11"', true],
    ['python_version == "3.11.0"', true],
    ['python_version != "3.11"', false],
    ['python_version == "3.*"', true],
    ['python_version ~= "3.8"', true],
    ['python_full_version >= "3.11.1"', true],
    ['python_full_version < "3.11.2"', false],
    ['"3.8" < python_version', true],
    ['sys_platform == "linux"', true],
    ['sys_platform == "win32"', false],
    ['sys_platform != "darwin"', true],
    ['platform_system == "Darwin" and platform_machine == "arm64"', false],
    ['"linux" in sys_platform', true],
    ['"win" in sys_platform', false],
    ['"win" not in sys_platform', true],
    ['platform_machine in "x86_64 aarch64"', true],
    ['platform_python_implementation === "CPython"', true],
    // As packaging 26: a release that is not PEP 440 meets no version comparison, and strings have no order.
    ['platform_release >= "6"', false],
    ['platform_release == "6.1.0-18-amd64"', true],
    ['platform_version < "#2"', false],
    ['platform_version >= "#1"', false],
    ['implementation_name == "pypy" or os_name == "posix"', true],
    ['os_name == "nt" or python_version < "3.0" or sys_platform == "linux"', true],
    ['os_name == "posix" and python_version < "3.0" or sys_platform == "linux"', true],
    ['os_name == "posix" and (python_version < "3.0" or sys_platform == "darwin")', false],
    ['((os_name == "posix") and ((python_version >= "3.10")))', true],
    ['extra == "test"', false],
    ["os.name == 'posix' and sys.platform == 'linux'", true],
    ["python_implementation == 'CPython'", true],
  ];
  for (const [marker, expected] of CASES) {
    test(`${marker} -> ${expected}`, () => assert.equal(evaluateMarker(marker, LINUX), expected));
  }

  test("extra compares as a normalised name and defaults to the empty string", () => {
    assert.equal(evaluateMarker('extra == "Dev_Tools"', { ...LINUX, extra: "dev-tools" }), true);
    assert.equal(evaluateMarker('extra == "dev"', { ...LINUX, extra: "test" }), false);
    assert.equal(evaluateMarker('extra == ""', LINUX), true);
  });

  test("and binds tighter than or", () => {
    // If "or" bound tighter this would read  a and (b or c)  = false and ... = false.
    assert.equal(evaluateMarker('os_name == "nt" and sys_platform == "x" or python_version > "3"', LINUX), true);
  });

  const ERRORS: [string, string][] = [
    ["", 'invalid marker "": it is empty'],
    ['python_version < "3.9" and', 'invalid marker "python_version < \\"3.9\\" and": expected a variable or a quoted string at the end'],
    ['(python_version < "3.9"', 'invalid marker "(python_version < \\"3.9\\"": expected ")" at the end'],
    ['python_version < "3.9")', 'invalid marker "python_version < \\"3.9\\")": unexpected ")" at position 23'],
    ['python_version "3.9"', 'invalid marker "python_version \\"3.9\\"": expected an operator (==, !=, <, <=, >, >=, ~=, ===, in, not in) at position 16, found ""3.9""'],
    ['python_version = "3.9"', 'invalid marker "python_version = \\"3.9\\"": unexpected "=" at position 16'],
    ['python_version not "3"', 'invalid marker "python_version not \\"3\\"": expected "in" after "not" at position 20'],
    ['python_version < 3.9', 'invalid marker "python_version < 3.9": unexpected "3" at position 18'],
    ['os_name == "posix" && sys_platform == "linux"', 'invalid marker "os_name == \\"posix\\" && sys_platform == \\"linux\\"": unexpected "&" at position 20'],
    ['python_version ~= "abc"', 'invalid marker "python_version ~= \\"abc\\"": "~=" compares PEP 440 versions of implementation_version, platform_release, python_full_version, python_version; got "3.11" and "abc"'],
  ];
  for (const [marker, message] of ERRORS) {
    test(`rejects ${JSON.stringify(marker)}`, () => {
      assert.throws(() => evaluateMarker(marker, LINUX), { name: "RequirementError", message });
    });
  }

  test("a variable missing from the environment is an error, not a silent false", () => {
    const { platform_machine: _, ...partial } = LINUX;
    assert.throws(() => evaluateMarker('platform_machine == "x86_64"', partial), {
      name: "RequirementError",
      message: 'cannot evaluate marker "platform_machine == \\"x86_64\\"": the environment has no "platform_machine"',
    });
  });

  test("markerVariables lists the variables a marker reads, once each, with aliases resolved", () => {
    assert.deepEqual(
      markerVariables('os.name == "posix" and (python_version < "3.9" or "x" in os_name)'),
      ["os_name", "python_version"],
    );
  });
});
