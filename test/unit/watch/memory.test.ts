// Bounded memory: a job printing 200 MB (with one 50 MB line) or returning a 100 MB result keeps the
// watching process within a small constant over the largest single item. Measured as the peak RSS
// (VmHWM) of a child process that only watches (Linux: /proc).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { tempRoot } from "./helpers.js";

const MB = 1 << 20;
const root = tempRoot();
after(() => rmSync(root, { recursive: true, force: true }));

/** A finished job dir: `logMB` of output (one line of `longLineMB` among 1 KiB lines) and a result string of `resultMB`. */
function finishedJob(name: string, logMB: number, longLineMB: number, resultMB: number): string {
  const dir = join(root, name);
  mkdirSync(dir);
  const log = openSync(join(dir, "job.log"), "w");
  const line = Buffer.from(`${"x".repeat(1023)}\n`);
  const block = Buffer.concat(Array.from({ length: 1024 }, () => line));
  for (let i = 0; i < logMB - longLineMB; i++) writeSync(log, block);
  if (longLineMB > 0) {
    const long = Buffer.alloc(MB, "y");
    for (let i = 0; i < longLineMB; i++) writeSync(log, long);
    writeSync(log, "\n");
  }
  closeSync(log);
  if (resultMB > 0) writeFileSync(join(dir, "result.json"), `{"value": "${"r".repeat(resultMB * MB)}"}`);
  writeFileSync(join(dir, "status.json"), JSON.stringify({ state: "COMPLETED", exit_code: 0 }));
  return dir;
}

function watchInChild(dir: string): { logChars: number; logOffset: number; resultChars: number; peakKiB: number } {
  const out = execFileSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "memory-child.ts"), dir], { encoding: "utf8", maxBuffer: MB });
  return JSON.parse(out);
}

const linux = existsSync("/proc/self/status");

test("baseline, 200 MB of output with a 50 MB line, and a 100 MB result: peak RSS of the watching process", { skip: !linux, timeout: 300_000 }, () => {
  const baseline = watchInChild(finishedJob("small", 0, 0, 0));
  const output = watchInChild(finishedJob("output", 200, 50, 0));
  const result = watchInChild(finishedJob("result", 0, 0, 100));
  const mb = (kib: number) => Math.round(kib / 1024);
  console.log(`peak RSS: baseline ${mb(baseline.peakKiB)} MB, 200 MB output ${mb(output.peakKiB)} MB, 100 MB result ${mb(result.peakKiB)} MB`);
  assert.equal(output.logOffset, 200 * MB + 1);
  assert.equal(output.logChars, 200 * MB + 1);
  assert.equal(result.resultChars, 100 * MB);
  // Output streams through: the peak stays far below the 200 MB printed (and the 50 MB line is never whole).
  assert.ok(output.peakKiB - baseline.peakKiB < 64 * 1024, `output: ${mb(output.peakKiB - baseline.peakKiB)} MB over the baseline`);
  // The result: its bytes once (its value stays text, never a string or a parsed value), plus frames not yet
  // collected; it was ~3× its size while the watch parsed it.
  assert.ok(result.peakKiB - baseline.peakKiB < 160 * 1024, `result: ${mb(result.peakKiB - baseline.peakKiB)} MB over the baseline`);
});
