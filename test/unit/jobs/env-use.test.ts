// What the env-use command reads from the target's job dirs (jobs/env-use.ts): for each live id, the env its
// job.json's python names. Those dirs are the target's files, so whatever they hold is data: a missing or
// malformed job.json, a python that is no env's interpreter or holds a line break, an id that is a path.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { JOB_PYTHONS, parseLiveJobs } from "../../../src/jobs/env-use.js";

const jobs = mkdtempSync(join(tmpdir(), "sr-env-use-"));
after(() => rmSync(jobs, { recursive: true, force: true }));

function jobJson(path: string, text: string): void {
  mkdirSync(join(jobs, path, ".."), { recursive: true });
  writeFileSync(join(jobs, path), text);
}

test("each live id gets the env its job dir names; anything else is an id with no env, and a path is no id", () => {
  jobJson("plain/job.json", JSON.stringify({ id: "plain", python: "/b/envs/p-py3.11-2/bin/python" }));
  jobJson("array/0/job.json", JSON.stringify({ python: "/b/envs/p-py3.11/bin/python" }));
  jobJson("array/1/job.json", JSON.stringify({ python: "/b/envs/p-py3.11/bin/python" }));
  jobJson("garbled/job.json", "{not json");
  jobJson("list/job.json", "[1, 2]");
  jobJson("number/job.json", JSON.stringify({ python: 3 }));
  jobJson("relative/job.json", JSON.stringify({ python: "envs/p-py3.11/bin/python" }));
  jobJson("not-python/job.json", JSON.stringify({ python: "/b/envs/p-py3.11/bin/sh" }));
  jobJson("broken-line/job.json", JSON.stringify({ python: "/b/envs/x\nother\t/b/envs/p-py3.11-9/bin/python" }));
  jobJson("outside/job.json", JSON.stringify({ python: "/b/envs/p-py3.11-7/bin/python" }));
  const ids = ["plain", "array", "garbled", "list", "number", "relative", "not-python", "broken-line", "gone", "../outside", "-x", ""];
  const run = spawnSync("python3", ["-c", JOB_PYTHONS, jobs], { input: `${ids.join("\n")}\n`, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(
    [...parseLiveJobs(run.stdout)],
    [
      ["plain", "/b/envs/p-py3.11-2"],
      ["array", "/b/envs/p-py3.11"],
      ["garbled", null],
      ["list", null],
      ["number", null],
      ["relative", null],
      ["not-python", null],
      ["broken-line", null],
      ["gone", null],
    ],
  );
});
