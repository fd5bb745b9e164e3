import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseDirectReference } from "../../../src/envsync/requirements/direct-url.js";
import {
  type Pep610DirectUrl,
  requirementUrlFromPep610,
  sameDirectReference,
} from "../../../src/envsync/requirements/index.js";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const installedAtTag: Pep610DirectUrl = {
  url: "https://github.com/o/tool.git",
  vcs_info: { vcs: "git", commit_id: COMMIT, requested_revision: "v1.2" },
};

describe("direct references", () => {
  test("a VCS URL splits into vcs, repository, ref, subdirectory and egg; a user@ before the host is no ref", () => {
    assert.deepEqual(parseDirectReference("git+ssh://git@github.com/o/tool.git@v1.2#egg=tool&subdirectory=py"), {
      vcs: "git",
      url: "ssh://git@github.com/o/tool",
      ref: "v1.2",
      subdirectory: "py",
      egg: "tool",
    });
    assert.equal(parseDirectReference("git+ssh://git@github.com/o/tool.git").ref, null);
  });

  // wanted, installed, same?
  const CASES: [string, string | Pep610DirectUrl, boolean][] = [
    ["git+https://github.com/o/tool.git@v1.2", "git+https://github.com/o/tool.git@v1.2", true],
    ["git+https://github.com/o/tool@v1.2", "git+https://github.com/o/tool.git/@v1.2", true],
    ["git+https://github.com/o/tool.git@v1.2", "git+https://github.com/o/tool.git@v1.3", false],
    ["git+https://github.com/o/tool.git@v1.2", "git+https://github.com/o/fork.git@v1.2", false],
    ["git+https://github.com/o/tool.git@v1.2", "hg+https://github.com/o/tool.git@v1.2", false],
    ["git+https://github.com/o/tool.git", "git+https://github.com/o/tool.git@v1.2", false],
    ["git+https://github.com/o/tool.git@v1.2#subdirectory=a", "git+https://github.com/o/tool.git@v1.2#subdirectory=b", false],
    ["git+https://github.com/o/tool.git@v1.2#egg=tool", "git+https://github.com/o/tool.git@v1.2", true],
    ["git+https://github.com/o/tool.git@v1.2", installedAtTag, true],
    [`git+https://github.com/o/tool.git@${COMMIT}`, installedAtTag, true],
    ["git+https://github.com/o/tool.git@0123456", installedAtTag, true],
    ["git+https://github.com/o/tool.git@fedcba9", installedAtTag, false],
    ["git+https://github.com/o/tool.git@v1.3", installedAtTag, false],
    ["git+https://github.com/o/tool.git", installedAtTag, false],
    ["git+https://github.com/o/tool.git", { url: "https://github.com/o/tool.git", vcs_info: { vcs: "git", commit_id: COMMIT } }, true],
    ["https://x.example/p-1.0.whl#sha256=abc", "https://x.example/p-1.0.whl", true],
    ["https://x.example/p-1.0.whl", { url: "https://x.example/p-1.0.whl", archive_info: {} }, true],
    ["https://x.example/p-1.1.whl", { url: "https://x.example/p-1.0.whl", archive_info: {} }, false],
  ];
  for (const [wanted, installed, same] of CASES) {
    test(`${wanted} ${same ? "matches" : "differs from"} ${JSON.stringify(installed)}`, () => {
      assert.equal(sameDirectReference(wanted, installed), same);
    });
  }

  test("requirementUrlFromPep610 pins the installed commit, and keeps the subdirectory", () => {
    assert.equal(requirementUrlFromPep610(installedAtTag), `git+https://github.com/o/tool.git@${COMMIT}`);
    assert.equal(
      requirementUrlFromPep610({ ...installedAtTag, subdirectory: "py" }),
      `git+https://github.com/o/tool.git@${COMMIT}#subdirectory=py`,
    );
    assert.equal(requirementUrlFromPep610({ url: "file:///opt/w/p-1.0.whl", archive_info: {} }), "file:///opt/w/p-1.0.whl");
  });
});
