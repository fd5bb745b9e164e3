// A run's claim on the project's remote env (registry.ts, claimEnv): it counts for the other runs while its
// process lives, never for the run itself, and a claim left by a process that is gone is removed.
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { claimEnv, envClaimed, jobsDir } from "../../../src/jobs/registry.js";
import { scratchDir } from "../../helpers/scratch.js";

test("a live run's claim counts for the others, not for itself; its release ends it", () => {
  const root = scratchDir("srclaim-");
  try {
    assert.equal(envClaimed(root), false, "no jobs dir yet");
    const release = claimEnv(root, "20261201-120000-aaaaaa");
    assert.equal(envClaimed(root), true);
    assert.equal(envClaimed(root, "20261201-120000-aaaaaa"), false, "the run's own claim");
    assert.equal(existsSync(join(root, ".slurmray", ".gitignore")), true, "the state dir stays out of git");
    release();
    assert.equal(envClaimed(root), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a claim whose process is gone counts for nothing and is removed; one being written counts", () => {
  const root = scratchDir("srclaim-");
  try {
    claimEnv(root, "20261201-120000-bbbbbb")();
    const dead = join(jobsDir(root), "20261201-120000-dddddd.claim");
    writeFileSync(dead, "2147483646\n");
    assert.equal(envClaimed(root), false);
    assert.equal(existsSync(dead), false);
    const writing = join(jobsDir(root), "20261201-120000-eeeeee.claim");
    writeFileSync(writing, "");
    assert.equal(envClaimed(root), true, "its pid is not written yet");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
