import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareVersions, normalizeName, RequirementError, satisfies } from "../../../src/envsync/requirements/index.js";

describe("normalizeName", () => {
  const NAMES: [string, string][] = [
    ["Foo_Bar.baz", "foo-bar-baz"],
    ["requests", "requests"],
    ["Django", "django"],
    ["zope.interface", "zope-interface"],
    ["a__b--c..d", "a-b-c-d"],
    ["  PyYAML ", "pyyaml"],
    ["ruamel.yaml.clib", "ruamel-yaml-clib"],
  ];
  for (const [name, normalized] of NAMES) {
    test(`${JSON.stringify(name)} -> ${normalized}`, () => assert.equal(normalizeName(name), normalized));
  }
  for (const bad of ["", "-foo", "foo-", "fo o", "foo!"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => normalizeName(bad), {
        name: "RequirementError",
        message: `"${bad}" is not a valid project name (use letters, digits, and ".", "-", "_" between them)`,
      });
    });
  }
});

describe("compareVersions", () => {
  // Each version is strictly less than the next (PEP 440 ordering).
  const ASCENDING = [
    "0.9",
    "1.0.dev1",
    "1.0a1.dev1",
    "1.0a1",
    "1.0a2",
    "1.0b1",
    "1.0rc1",
    "1.0",
    "1.0+cu118",
    "1.0+cu121",
    "1.0.post1.dev1",
    "1.0.post1",
    "1.0.1",
    "1.10",
    "2.0",
    "1!0.1",
  ];
  for (let i = 0; i + 1 < ASCENDING.length; i++) {
    const [low, high] = [ASCENDING[i]!, ASCENDING[i + 1]!];
    test(`${low} < ${high}`, () => {
      assert.equal(compareVersions(low, high), -1);
      assert.equal(compareVersions(high, low), 1);
    });
  }

  const EQUAL: [string, string][] = [
    ["1.0", "1.0.0"],
    ["1.0.0", "1"],
    ["1.0+cu121", "1.0.0+cu121"],
    ["1.0RC1", "1.0rc1"],
    ["1.0-rc.1", "1.0rc1"],
    ["v2.0", "2.0"],
    ["0!1.0", "1.0"],
  ];
  for (const [a, b] of EQUAL) {
    test(`${a} == ${b}`, () => assert.equal(compareVersions(a, b), 0));
  }

  test("an invalid version is a RequirementError naming it", () => {
    assert.throws(() => compareVersions("1.0", "not-a-version"), (error: unknown) => {
      assert.ok(error instanceof RequirementError);
      assert.equal(error.message, '"not-a-version" is not a valid PEP 440 version (for example 1.0, 2.1.0rc1, 1.0+cu121)');
      return true;
    });
  });
});

describe("satisfies", () => {
  // version, specifier set, expected
  const CASES: [string, string, boolean][] = [
    ["1.0", "", true],
    ["1.0.0", "==1.0", true],
    ["1.0", "==1.0.0", true],
    ["1.1", "==1.0", false],
    ["2.1.0+cu121", "==2.1.0", true],
    ["2.1.0", "==2.1.0+cu121", false],
    ["2.1.0+cu121", "==2.1.0+cu121", true],
    ["2.1.0+cu121", "!=2.1.0", false],
    ["1.5", ">=1.0,<2", true],
    ["2.0", ">=1.0,<2", false],
    ["0.9", " >= 1.0 , < 2 ", false],
    ["2.0rc1", ">=1.0", true],
    ["2.0.dev3", ">1.0", true],
    ["2.0rc1", "<2.0", false],
    ["1.0.post1", ">1.0", false],
    ["1.0.post1", ">=1.0", true],
    ["1.4.5", "~=1.4.2", true],
    ["1.5", "~=1.4.2", false],
    ["1.9", "~=1.4", true],
    ["1.7.3", "==1.7.*", true],
    ["1.8", "==1.7.*", false],
    ["1.8", "!=1.7.*", true],
    ["1!1.0", ">=2.0", true],
    ["2004d", "===2004d", true],
    ["2004d", "==2004", false],
    ["1.0", "===1.0.0", false],
    // PEP 440, where @renovatebot/pep440 alone gets them wrong (issue 11).
    ["1.0+cu121", "==1.0+cpu", false],
    ["1.0+cu121", "==1.0", true],
    ["1.0+cu121", "!=1.0+cpu", true],
    ["1.0+cu121", "===1.0", false],
    ["1.0", "===1.0", true],
    ["1!1.0", ">1.0", true],
    ["2.0", "<1!2.0", true],
    ["1.0.dev0", "<1.0.dev1", true],
    ["1.0.post2", ">1.0.post1", true],
    ["1.0+cu121", ">1.0", false],
    ["1.0a1", "<1.0.post1", true],
    ["1.0.post1", ">1.0a1", true],
  ];
  for (const [version, specifier, expected] of CASES) {
    test(`${version} ${expected ? "is" : "is not"} in ${JSON.stringify(specifier)}`, () => {
      assert.equal(satisfies(version, specifier), expected);
    });
  }

  test("an invalid specifier is a RequirementError naming the bad clause", () => {
    assert.throws(() => satisfies("1.0", ">=1.0,=<2"), {
      name: "RequirementError",
      message: '"=<2" is not a valid version specifier (write for example ">=1.0", "==2.1.*" or ">=1,<2")',
    });
  });
});
