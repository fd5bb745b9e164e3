import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ignoreStateDir, saveJob } from "../../../src/jobs/registry.js";
import type { JobRecord } from "../../../src/model/job.js";
import { scratchDir } from "../../helpers/scratch.js";

test(".slurmray/ keeps itself out of git from the first job record on", () => {
  const root = scratchDir("sr-state-");
  execFileSync("git", ["init", "-q", root]);
  saveJob(root, { id: "20261124-135501-3fa2c1" } as JobRecord);
  ignoreStateDir(root); // idempotent
  assert.match(readFileSync(join(root, ".slurmray", ".gitignore"), "utf8"), /^\*$/m);
  const status = execFileSync("git", ["-C", root, "status", "--porcelain", "--untracked-files=all"], { encoding: "utf8" });
  assert.equal(status, "");
});
