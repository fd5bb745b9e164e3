import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { parseRequirementsFile, RequirementError } from "../../../src/envsync/requirements/index.js";
import { scratchDir } from "../../helpers/scratch.js";

const root = scratchDir("slurmray-reqfile-");
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** Writes the files into a fresh folder and returns the folder. */
function tree(files: Record<string, string>): string {
  const dir = join(root, String(counter++));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** Parses requirements.txt of a fresh tree. */
function parse(files: Record<string, string>) {
  const dir = tree(files);
  return { dir, file: parseRequirementsFile(join(dir, "requirements.txt")) };
}

/** Asserts that parsing fails with exactly `message`, where "DIR" stands for the tree's folder. */
function assertFails(files: Record<string, string>, message: string): void {
  const dir = tree(files);
  assert.throws(
    () => parseRequirementsFile(join(dir, "requirements.txt")),
    (error: unknown) => {
      assert.ok(error instanceof RequirementError);
      assert.equal(error.message, message.replaceAll("DIR", dir));
      return true;
    },
  );
}

const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);

describe("parseRequirementsFile", () => {
  test("comments, blank lines and inline comments are ignored; sources name file:line", () => {
    const { dir, file } = parse({
      "requirements.txt": "# pinned\n\nnumpy==1.26.4  # the array library\n   \nrequests>=2 ; python_version > '3'\n",
    });
    const main = join(dir, "requirements.txt");
    assert.deepEqual(file.requirements, [
      { name: "numpy", extras: [], specifier: "==1.26.4", marker: null, url: null, source: `${main}:3` },
      { name: "requests", extras: [], specifier: ">=2", marker: "python_version > '3'", url: null, source: `${main}:5` },
    ]);
  });

  test("a '#' inside a URL is kept, one after a space starts a comment", () => {
    const { file } = parse({
      "requirements.txt": "git+https://github.com/o/tool.git@v2#egg=tool # pinned tag\n",
    });
    assert.equal(file.requirements[0]!.name, "tool");
    assert.equal(file.requirements[0]!.url, "git+https://github.com/o/tool.git@v2#egg=tool");
  });

  test("the options are collected: index URLs, find-links, no-index, trusted hosts, pre, binary choices", () => {
    const { file } = parse({
      "requirements.txt": [
        "--index-url https://first.example/simple",
        "-i https://pypi.example/simple",
        "--extra-index-url https://extra1.example/simple",
        "--extra-index-url=https://extra2.example/simple",
        "-f ./wheels",
        "--find-links=https://wheels.example/",
        "--no-index",
        "--trusted-host 127.0.0.1",
        "--pre",
        "--no-binary :all:",
        "--only-binary numpy,scipy",
        "numpy",
      ].join("\n"),
    });
    assert.deepEqual(file.options, {
      indexUrl: "https://pypi.example/simple",
      extraIndexUrls: ["https://extra1.example/simple", "https://extra2.example/simple"],
      findLinks: ["./wheels", "https://wheels.example/"],
      constraints: [],
      noIndex: true,
      trustedHosts: ["127.0.0.1"],
      pre: true,
      noBinary: [":all:"],
      onlyBinary: ["numpy", "scipy"],
    });
    assert.deepEqual(file.requirements.map((r) => r.name), ["numpy"]);
  });

  test("-r reads a file relative to the including file, in order, in every spelling", () => {
    const { dir, file } = parse({
      "requirements.txt": "first\n-r sub/base.txt\n--requirement=sub/more.txt\n-rsub/last.txt\nfinal\n",
      "sub/base.txt": "base-a\n-r ../shared.txt\n",
      "sub/more.txt": "more\n",
      "sub/last.txt": "last\n",
      "shared.txt": "shared\n",
    });
    assert.deepEqual(file.requirements.map((r) => r.name), ["first", "base-a", "shared", "more", "last", "final"]);
    assert.equal(file.requirements[2]!.source, `${join(dir, "shared.txt")}:1`);
    assert.equal(file.requirements[1]!.source, `${join(dir, "sub/base.txt")}:1`);
  });

  test("an include cycle is an error at the line that closes it", () => {
    assertFails(
      { "requirements.txt": "a\n-r b.txt\n", "b.txt": "b\n-r requirements.txt\n" },
      'DIR/b.txt:2: "requirements.txt" is already being read: the includes form a cycle (requirements.txt -> b.txt -> requirements.txt)',
    );
  });

  test("a file including itself is a cycle", () => {
    assertFails(
      { "requirements.txt": "-r ./requirements.txt\n" },
      'DIR/requirements.txt:1: "./requirements.txt" is already being read: the includes form a cycle (requirements.txt -> requirements.txt)',
    );
  });

  test("the same file included twice without a cycle is read twice", () => {
    const { file } = parse({ "requirements.txt": "-r a.txt\n-r a.txt\n", "a.txt": "x\n" });
    assert.deepEqual(file.requirements.map((r) => r.name), ["x", "x"]);
  });

  test("a missing included file is an error at the including line", () => {
    assertFails({ "requirements.txt": "ok\n-r missing.txt\n" }, 'DIR/requirements.txt:2: cannot read requirements file "DIR/missing.txt": no such file');
  });

  test("a missing top-level file is an error naming it", () => {
    const path = join(root, "nowhere.txt");
    assert.throws(() => parseRequirementsFile(path), { message: `cannot read requirements file "${path}": no such file` });
  });

  test("-c files become constraints, with their own sources, and nested files inherit the constraint role", () => {
    const { dir, file } = parse({
      "requirements.txt": "-c constraints.txt\nnumpy\n",
      "constraints.txt": "numpy<2\n-r more-constraints.txt\n",
      "more-constraints.txt": "scipy==1.11.4\n",
    });
    assert.deepEqual(file.requirements.map((r) => r.name), ["numpy"]);
    assert.deepEqual(
      file.options.constraints.map((c) => [c.name, c.specifier, c.source]),
      [
        ["numpy", "<2", `${join(dir, "constraints.txt")}:1`],
        ["scipy", "==1.11.4", `${join(dir, "more-constraints.txt")}:1`],
      ],
    );
  });

  test("a constraint with extras or -e is an error", () => {
    assertFails(
      { "requirements.txt": "--constraint c.txt\n", "c.txt": "ray[tune]==2.9\n" },
      'DIR/c.txt:1: a constraint cannot have extras ("ray[…]")',
    );
    assertFails({ "requirements.txt": "-c c.txt\n", "c.txt": "-e ./lib\n" }, "DIR/c.txt:1: -e is not allowed in a constraints file");
  });

  test("-e takes a local directory (made absolute, with extras) or a VCS URL with #egg=", () => {
    const { dir, file } = parse({
      "requirements.txt": "-e ./libs/helper\n-e .[dev]\n--editable git+https://github.com/o/tool.git@main#egg=tool\n-e ./pkg#egg=Real_Name\n",
    });
    assert.deepEqual(
      file.requirements.map((r) => [r.name, r.extras, r.url, r.editable]),
      [
        ["helper", [], join(dir, "libs/helper"), true],
        [basename(dir), ["dev"], dir, true],
        ["tool", [], "git+https://github.com/o/tool.git@main#egg=tool", true],
        ["Real_Name", [], join(dir, "pkg"), true],
      ],
    );
  });

  test("-e of a VCS URL without #egg=, or of a remote archive, is an error", () => {
    assertFails(
      { "requirements.txt": "-e git+https://github.com/o/tool.git\n" },
      'DIR/requirements.txt:1: -e git+https://github.com/o/tool.git: add "#egg=name" so the project name is known',
    );
    assertFails(
      { "requirements.txt": "-e https://example.org/tool-1.0.tar.gz\n" },
      'DIR/requirements.txt:1: -e needs a local directory or a VCS URL (git+…, hg+…, svn+…, bzr+…), got "https://example.org/tool-1.0.tar.gz"',
    );
  });

  test("--hash values attach to the requirement on their line, across continuation lines", () => {
    const { dir, file } = parse({
      "requirements.txt": `numpy==1.26.4 \\\n    --hash=sha256:${SHA_A} \\\n    --hash sha256:${SHA_B}\nrequests==2.31.0\n`,
    });
    assert.deepEqual(file.requirements[0], {
      name: "numpy",
      extras: [],
      specifier: "==1.26.4",
      marker: null,
      url: null,
      source: `${join(dir, "requirements.txt")}:1`,
      hashes: [`sha256:${SHA_A}`, `sha256:${SHA_B}`],
    });
    assert.equal(file.requirements[1]!.source, `${join(dir, "requirements.txt")}:4`);
    assert.equal(file.requirements[1]!.hashes, undefined);
  });

  test("continuation lines join; a comment line ends the join; a final backslash is harmless", () => {
    const { file } = parse({
      "requirements.txt": "numpy\\\n>=1.20,\\\n<2\nscipy \\\n# a comment ends it\npandas\\",
    });
    assert.deepEqual(file.requirements.map((r) => [r.name, r.specifier]), [
      ["numpy", ">=1.20,<2"],
      ["scipy", ""],
      ["pandas", ""],
    ]);
  });

  test("direct references: name @ url, a bare VCS URL with #egg=, a bare wheel URL", () => {
    const { file } = parse({
      "requirements.txt": [
        "tool @ git+https://github.com/o/tool.git@v1.2",
        "git+https://github.com/o/other.git@abc1234#egg=other",
        "https://files.example/wheels/fast_lib-0.3.1-cp311-cp311-manylinux_2_17_x86_64.whl",
        "https://files.example/src/slow-lib-2.0.tar.gz ; python_version > '3'",
      ].join("\n"),
    });
    assert.deepEqual(
      file.requirements.map((r) => [r.name, r.url, r.marker]),
      [
        ["tool", "git+https://github.com/o/tool.git@v1.2", null],
        ["other", "git+https://github.com/o/other.git@abc1234#egg=other", null],
        ["fast_lib", "https://files.example/wheels/fast_lib-0.3.1-cp311-cp311-manylinux_2_17_x86_64.whl", null],
        ["slow-lib", "https://files.example/src/slow-lib-2.0.tar.gz", "python_version > '3'"],
      ],
    );
  });

  // requirements.txt content -> the exact error ("DIR" is the folder)
  const ERRORS: [string, string][] = [
    [
      "numpy\nnumpy=>1\n",
      'DIR/requirements.txt:2: invalid requirement "numpy=>1": "=>1" is not a valid version specifier (write for example ">=1.0", "==2.1.*" or ">=1,<2")',
    ],
    [
      "--prefer-binary\n",
      'DIR/requirements.txt:1: unknown option "--prefer-binary" (supported: -r/--requirement, -c/--constraint, -e/--editable, -i/--index-url, --extra-index-url, -f/--find-links, --no-index, --trusted-host, --pre, --no-binary, --only-binary, --hash)',
    ],
    ["--index-url\n", 'DIR/requirements.txt:1: "--index-url" needs a value'],
    ["--pre=yes\n", 'DIR/requirements.txt:1: "--pre" takes no value'],
    [
      "numpy --index-url https://x.example/simple\n",
      'DIR/requirements.txt:1: "--index-url" cannot share a line with a requirement; put it on a line of its own',
    ],
    [`--hash=sha256:${SHA_A}\n`, 'DIR/requirements.txt:1: "--hash" must follow a requirement on the same line'],
    [
      "numpy --hash=md5:abc\n",
      'DIR/requirements.txt:1: unsupported hash "md5:abc" (use sha256:, sha384: or sha512: and the hex digest)',
    ],
    ["numpy --hash=sha256:abc\n", 'DIR/requirements.txt:1: "sha256:abc" is not a sha256 digest (64 hex digits expected)'],
    [
      "https://files.example/download?id=3\n",
      'DIR/requirements.txt:1: cannot tell the project name of "https://files.example/download?id=3": write "name @ https://files.example/download?id=3" or add "#egg=name"',
    ],
    [
      "./dist/pkg-1.0-py3-none-any.whl\n",
      'DIR/requirements.txt:1: "./dist/pkg-1.0-py3-none-any.whl" is a local path; install a local project with -e, or write "name @ https://…"',
    ],
    ["-r https://example.org/reqs.txt\n", 'DIR/requirements.txt:1: cannot include "https://example.org/reqs.txt": only local files can be included'],
    [
      // A continued line is reported at its first physical line, as pip does.
      "a\n\\\n  b ; python_version >\n",
      'DIR/requirements.txt:2: invalid requirement "b ; python_version >": invalid marker "python_version >": expected a variable or a quoted string at the end',
    ],
  ];
  for (const [content, message] of ERRORS) {
    test(`rejects ${JSON.stringify(content)}`, () => assertFails({ "requirements.txt": content }, message));
  }
});
