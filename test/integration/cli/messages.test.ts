// What the CLI says, on the local target, spawned as a user runs it: each message once and true, progress as
// timestamped lines when stderr is no terminal, and nothing but the job's output and errors with --quiet.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { listJobs } from "../../../src/jobs/registry.js";
import type { JobRecord } from "../../../src/model/job.js";
import { runCli, startCli, tempProject } from "../../helpers/cli.js";

const PROJECT = {
  "work.py": `
import time

def fail():
    return 1 / 0

def chatty():
    print("job output line", flush=True)
    return 42

def sleepy(seconds=60):
    print("sleeping", flush=True)
    time.sleep(seconds)
    return "woke"
`,
};

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(new RegExp(pattern.source, "g"))].length;
}

async function started(root: string): Promise<JobRecord> {
  for (let i = 0; i < 200; i++) {
    const job = listJobs(root).find((j) => existsSync(join(j.remoteDir, "job.log")) && readFileSync(join(j.remoteDir, "job.log"), "utf8").includes("sleeping"));
    if (job) return job;
    await sleep(50);
  }
  throw new Error("the job did not start");
}

describe("CLI messages", () => {
  it("a failed job's traceback and its error line appear once each", async () => {
    const cwd = tempProject(PROJECT);
    const r = await runCli(["run", "work.py:fail"], { cwd });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(count(r.stderr, /Traceback \(most recent call last\)/), 1, r.stderr);
    assert.equal(count(r.stderr, /ZeroDivisionError: division by zero/), 2, "the traceback's last line, then the summary");
    assert.equal(count(r.stderr, /ended FAILED/), 1, r.stderr);
    assert.match(r.stderr, /error job \S+ ended FAILED: ZeroDivisionError: division by zero\n$/);
    const id = listJobs(cwd)[0]!.id;
    // `result` did not show the log: there the traceback is printed, once.
    const res = await runCli(["result", id], { cwd });
    assert.equal(res.code, 1);
    assert.equal(count(res.stderr, /Traceback/), 1, res.stderr);
    assert.equal(count(res.stderr, /ended FAILED/), 1, res.stderr);
  });

  it("Ctrl-C on run: stopping, cancelling, cancelled, each said once", async () => {
    const cwd = tempProject(PROJECT);
    const { child, done } = startCli(["run", "work.py:sleepy"], { cwd });
    const job = await started(cwd);
    child.kill("SIGINT");
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(count(r.stderr, /stopping/), 1, r.stderr);
    assert.equal(count(r.stderr, /cancelling job/), 1, r.stderr);
    assert.equal(count(r.stderr, new RegExp(`Interrupted: job ${job.id} was cancelled`)), 1, r.stderr);
    assert.doesNotMatch(r.stderr, /error/);
    assert.equal(listJobs(cwd)[0]!.state, "CANCELLED");
  });

  it("Ctrl-C on attach only stops watching, says so once, and the job goes on", async () => {
    const cwd = tempProject(PROJECT);
    const id = (await runCli(["run", "work.py:sleepy", "--detach"], { cwd })).stdout.trim();
    await started(cwd);
    const { child, done } = startCli(["attach", id], { cwd });
    await sleep(1000);
    child.kill("SIGINT");
    const r = await done;
    try {
      assert.equal(r.code, 130, r.stderr);
      assert.equal(count(r.stderr, /Stopped watching; job \S+ goes on/), 1, r.stderr);
      assert.doesNotMatch(r.stderr, /cancel/i);
      const status = JSON.parse((await runCli(["status", id, "--json"], { cwd })).stdout);
      assert.equal(status.state, "RUNNING");
    } finally {
      await runCli(["cancel", id], { cwd });
    }
  });

  it("progress without a terminal: one timestamped line per step; --quiet leaves only the job's output", async () => {
    const cwd = tempProject(PROJECT);
    const r = await runCli(["run", "work.py:chatty"], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "42\n");
    const lines = r.stderr.trimEnd().split("\n");
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d submitting to local$/);
    assert.match(lines[1]!, /^\d\d:\d\d:\d\d job \S+: running$/);
    assert.equal(lines[2], "job output line");
    assert.match(lines[3]!, /^\d\d:\d\d:\d\d job \S+ ended COMPLETED \(\d+\.\d s\)$/);
    assert.equal(lines.length, 4, r.stderr);
    assert.doesNotMatch(r.stderr, /\x1b/, "no escape codes when stderr is not a terminal");

    const quiet = await runCli(["run", "work.py:chatty", "--quiet"], { cwd });
    assert.equal(quiet.stderr, "job output line\n");
    assert.equal(quiet.stdout, "42\n");
  });
});
