import assert from "node:assert/strict";
import { test } from "node:test";
import { expandHostlist, parseDuration, parseMemory } from "../../../src/backends/slurm/format.js";
import { retryDecision } from "../../../src/backends/slurm/retry.js";
import { mapSlurmState, parseExitCode } from "../../../src/backends/slurm/states.js";

test("Slurm states map to job states, keeping what Slurm says beyond them", () => {
  const table: [string, string, string | null][] = [
    ["PENDING", "PENDING", null],
    ["CONFIGURING", "PENDING", "configuring"],
    ["REQUEUED", "PENDING", "requeued"],
    ["RUNNING", "RUNNING", null],
    ["COMPLETING", "RUNNING", null],
    ["SUSPENDED", "RUNNING", "suspended"],
    ["COMPLETED", "COMPLETED", null],
    ["FAILED", "FAILED", null],
    ["CANCELLED by 1001", "CANCELLED", "cancelled by 1001"],
    ["CANCELLED+", "CANCELLED", "cancelled+"],
    ["TIMEOUT", "TIMEOUT", null],
    ["DEADLINE", "TIMEOUT", "deadline"],
    ["OUT_OF_MEMORY", "OUT_OF_MEMORY", null],
    ["NODE_FAIL", "NODE_FAIL", null],
    ["BOOT_FAIL", "NODE_FAIL", "boot_fail"],
    ["PREEMPTED", "PREEMPTED", null],
  ];
  for (const [raw, state, note] of table) assert.deepEqual(mapSlurmState(raw), { state, note }, raw);
  assert.equal(mapSlurmState("SOMETHING_NEW"), null);
});

test("exit codes: code:signal", () => {
  assert.equal(parseExitCode("0:0"), 0);
  assert.equal(parseExitCode("1:0"), 1);
  assert.equal(parseExitCode("0:15"), 143);
  assert.equal(parseExitCode(""), null);
});

test("durations, host lists and memory sizes as squeue and sacct print them", () => {
  assert.equal(parseDuration("1-02:03:04"), 93784);
  assert.equal(parseDuration("02:03:04"), 7384);
  assert.equal(parseDuration("3:04"), 184);
  assert.equal(parseDuration("00:00.042"), 0.042);
  assert.equal(parseDuration("UNLIMITED"), null);
  assert.deepEqual(expandHostlist("n[1-3,7],gpu[08-10]"), ["n1", "n2", "n3", "n7", "gpu08", "gpu09", "gpu10"]);
  assert.deepEqual(expandHostlist("n1"), ["n1"]);
  assert.deepEqual(expandHostlist("None assigned"), []);
  assert.deepEqual(expandHostlist("(Resources)"), []);
  // What squeue prints is data: a range that is not one, or one of a billion nodes, stays as it was written.
  const started = Date.now();
  assert.deepEqual(expandHostlist("n[1-999999999],m[2]"), ["n[1-999999999]", "m2"]);
  assert.deepEqual(expandHostlist("n[5-3],x[a-b],y[1-2,zz]"), ["n[5-3]", "x[a-b]", "y[1-2,zz]"]);
  assert.equal(expandHostlist("big[00001-100000]").length, 100_000);
  assert.ok(Date.now() - started < 2000);
  assert.equal(parseMemory("1024K"), 1048576);
  assert.equal(parseMemory("1.5G"), 1610612736);
  assert.equal(parseMemory(""), null);
});

test("retries: NODE_FAIL and PREEMPTED only, up to max_retries", () => {
  assert.equal(retryDecision("NODE_FAIL", 1, 2).retry, true);
  assert.match(retryDecision("PREEMPTED", 2, 2).message ?? "", /preempted; submitting it again \(retry 2 of 2\)/);
  assert.equal(retryDecision("PREEMPTED", 3, 2).retry, false);
  assert.match(retryDecision("NODE_FAIL", 1, 0).message ?? "", /Set max_retries/);
  assert.deepEqual(retryDecision("FAILED", 1, 5), { retry: false, message: null });
});
