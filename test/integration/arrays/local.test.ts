// `slurmray map` on the local target through the CLI: a pool of N processes, results in input order, a failed
// element alone, elements addressed as J_N, --retry-failed, and input checked before anything runs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig } from "../../../src/config/load.js";
import { refreshJobs } from "../../../src/jobs/control.js";
import { findJob, saveJob } from "../../../src/jobs/registry.js";
import { runCli, startCli, tempProject } from "../../helpers/cli.js";
import { maxOverlap } from "./overlap.js";

const WORK = `import os, time

def sq(x, pause=0.4):
    time.sleep(pause)
    if x == FAILING:
        raise ValueError(f"element {x} fails on purpose")
    print("squared", x, flush=True)
    return x * x

def kinds(**kw):
    return {k: [type(v).__name__, repr(v)] for k, v in kw.items()}

def same(v):
    return v
`;

function project(failing: number): string {
  const cwd = tempProject({ "work.py": `FAILING = ${failing}\n${WORK}` });
  writeFileSync(join(cwd, "list.jsonl"), `${Array.from({ length: 8 }, (_, x) => JSON.stringify({ x })).join("\n")}\n`);
  return cwd;
}

function jobDir(cwd: string, id: string): string {
  return join(cwd, ".slurmray", "jobs", id);
}

/** The elements' run times from the runner's own status.json. */
function runTimes(cwd: string, id: string, n: number): { start: number; end: number }[] {
  return Array.from({ length: n }, (_, i) => {
    const status = JSON.parse(readFileSync(join(jobDir(cwd, id), String(i), "status.json"), "utf8")) as { started_at: string; ended_at: string };
    return { start: Date.parse(status.started_at), end: Date.parse(status.ended_at) };
  });
}

describe("slurmray map on the local target", () => {
  it("runs a pool of at most N, prints results in order, reports element 5 alone and exits 1; --retry-failed reruns only it", async () => {
    const cwd = project(5);
    const r = await runCli(["map", "work.py:sq", "--args-file", "list.jsonl", "--max-parallel", "3"], { cwd });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.deepEqual(
      lines.map((l) => l.split("\t").slice(0, 2)),
      Array.from({ length: 8 }, (_, i) => [String(i), i === 5 ? "FAILED" : "COMPLETED"]),
    );
    assert.deepEqual(
      lines.filter((_, i) => i !== 5).map((l) => JSON.parse(l.split("\t")[2]!)),
      [0, 1, 2, 3, 4, 6, 7].map((x) => x * x),
    );
    assert.match(lines[5]!, /ValueError: element 5 fails on purpose/);
    // The traceback once, with the element's id; nothing else failed.
    const id = /error job (\S+)_5 ended FAILED/.exec(r.stderr)?.[1];
    assert.ok(id, r.stderr);
    assert.equal(r.stderr.match(/Traceback/g)?.length, 1);
    assert.match(r.stderr, /work\.py", line 7, in sq/);
    const overlap = maxOverlap(runTimes(cwd, id, 8));
    assert.ok(overlap <= 3 && overlap >= 2, `at most 3 at once, and in parallel: ${overlap}`);

    // J_N for the job commands.
    const status = await runCli(["status", `${id}_5`, "--json"], { cwd });
    assert.equal(JSON.parse(status.stdout).state, "FAILED");
    assert.equal((await runCli(["logs", `${id}_3`], { cwd })).stdout, "squared 3\n");
    const three = await runCli(["result", `${id}_3`], { cwd });
    assert.equal(three.stdout.trim(), "9");
    assert.equal((await runCli(["result", `${id}_5`], { cwd })).code, 1);
    assert.equal((await runCli(["result", `${id}_8`], { cwd })).code, 2);

    // Fixed, then only element 5 runs again.
    const before = runTimes(cwd, id, 8);
    writeFileSync(join(cwd, "work.py"), `FAILING = -1\nimport time; time.sleep(1.5)\n${WORK}`);
    const first = startCli(["map", "--retry-failed", id, "--json"], { cwd });
    // A second retry while the first runs is refused: it would submit element 5 again beside it.
    const lock = join(cwd, ".slurmray", "jobs", `${id}.retrying`);
    for (let waited = 0; !existsSync(lock); waited += 20) {
      assert.ok(waited < 20_000, "the first retry took its lock");
      await sleep(20);
    }
    const second = await runCli(["map", "--retry-failed", id], { cwd });
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`a retry of job ${id} is under way in another slurmray \\(pid \\d+\\)`));
    const retry = await first.done;
    assert.equal(retry.code, 0, retry.stderr);
    assert.equal(existsSync(lock), false, "the lock is released");
    const report = JSON.parse(retry.stdout);
    assert.equal(report.job_id, id);
    assert.deepEqual(
      report.elements.map((e: { result: unknown }) => e.result),
      Array.from({ length: 8 }, (_, x) => x * x),
    );
    const after = runTimes(cwd, id, 8);
    assert.deepEqual(after.filter((_, i) => i !== 5), before.filter((_, i) => i !== 5), "the completed elements did not run again");
    assert.ok(after[5]!.start > before[5]!.end);
    // A lock left by a retry that was killed (its pid gone) is taken over.
    const gone = spawnSync("true").pid;
    writeFileSync(lock, `${gone}\n`);
    const again = await runCli(["map", "--retry-failed", id], { cwd });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /nothing to retry/);
    assert.equal(existsSync(lock), false);
  });

  it("cancel J_N stops one element and leaves the others; cancel J stops the rest", async () => {
    const cwd = project(-1);
    writeFileSync(join(cwd, "list.jsonl"), `${[0, 1, 2].map((x) => JSON.stringify({ x, pause: 30 })).join("\n")}\n`);
    const submitted = await runCli(["map", "work.py:sq", "--args-file", "list.jsonl", "--max-parallel", "2", "--detach"], { cwd });
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = submitted.stdout.trim();
    assert.equal((await runCli(["cancel", `${id}_2`], { cwd })).code, 0);
    const one = JSON.parse((await runCli(["status", id, "--json"], { cwd })).stdout);
    assert.deepEqual(one.array.elements.map((e: { state: string }) => e.state).slice(2), ["CANCELLED"]);
    assert.ok(["RUNNING", "PENDING"].includes(one.state));
    assert.equal((await runCli(["cancel", id], { cwd })).code, 0);
    const all = JSON.parse((await runCli(["status", id, "--json"], { cwd })).stdout);
    assert.equal(all.state, "CANCELLED");
    assert.deepEqual(all.array.elements.map((e: { state: string }) => e.state), ["CANCELLED", "CANCELLED", "CANCELLED"]);
  });

  it("cancel J_1 from another shell while map watches: the map's record and report keep that cancel, the others complete", async () => {
    const cwd = project(-1);
    writeFileSync(join(cwd, "list.jsonl"), `${[3, 60, 3].map((pause, x) => JSON.stringify({ x, pause })).join("\n")}\n`);
    const { child, done } = startCli(["map", "work.py:sq", "--args-file", "list.jsonl", "--json"], { cwd });
    let id = "";
    for (let waited = 0; id === ""; waited += 50) {
      assert.ok(waited < 20_000 && child.exitCode === null, "the map submitted its array");
      await sleep(50);
      id = existsSync(join(cwd, ".slurmray", "jobs")) ? (spawnSync("ls", [join(cwd, ".slurmray", "jobs")], { encoding: "utf8" }).stdout.match(/^(\S+)\.json$/m)?.[1] ?? "") : "";
    }
    for (let waited = 0; findJob(cwd, id).array!.elements[1]!.state !== "RUNNING"; waited += 50) {
      assert.ok(waited < 20_000, "element 1 runs");
      await sleep(50);
    }
    assert.equal((await runCli(["cancel", `${id}_1`], { cwd })).code, 0);
    const r = await done;
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { elements: { state: string; error: string | null }[] };
    assert.deepEqual(report.elements.map((e) => e.state), ["COMPLETED", "CANCELLED", "COMPLETED"]);
    const element = findJob(cwd, `${id}_1`);
    assert.equal(element.state, "CANCELLED");
    assert.equal(element.reason, "cancelled by the user");
  });

  it("a status refresh writes an element's new state into the record on disk, not over what another command wrote since it read", async () => {
    const cwd = project(-1);
    writeFileSync(join(cwd, "list.jsonl"), `${[0.2, 30, 30].map((pause, x) => JSON.stringify({ x, pause })).join("\n")}\n`);
    const submitted = await runCli(["map", "work.py:sq", "--args-file", "list.jsonl", "--detach"], { cwd });
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = submitted.stdout.trim();
    const status0 = join(jobDir(cwd, id), "0", "status.json");
    for (let waited = 0; !readFileSync(status0, { encoding: "utf8", flag: "a+" }).includes("COMPLETED"); waited += 50) {
      assert.ok(waited < 20_000, "element 0 ended");
      await sleep(50);
    }
    const config = loadConfig(cwd);
    const stale = findJob(config.root, id); // read, as `slurmray status` does, before its poll
    const meanwhile = findJob(config.root, id);
    meanwhile.array!.elements[2]!.startedAt = "2000-01-01T00:00:00.000Z"; // a field no poll rewrites once set
    saveJob(config.root, meanwhile);
    await refreshJobs(config, [stale]);
    const after = findJob(config.root, id);
    assert.equal(after.array!.elements[0]!.state, "COMPLETED");
    assert.equal(after.array!.elements[2]!.startedAt, "2000-01-01T00:00:00.000Z");
    assert.equal((await runCli(["cancel", id], { cwd })).code, 0);
  });

  it("Ctrl-C during map cancels the array", async () => {
    const cwd = project(-1);
    writeFileSync(join(cwd, "list.jsonl"), `${JSON.stringify({ x: 1, pause: 30 })}\n`);
    const { child, done } = startCli(["map", "work.py:sq", "--args-file", "list.jsonl"], { cwd });
    setTimeout(() => child.kill("SIGINT"), 1500);
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.stderr.match(/was cancelled/g)?.length, 1, r.stderr);
  });

  it("each element's arguments reach it as its line wrote them (1.0 a float, 2**64 + 1 exact)", async () => {
    const cwd = project(-1);
    writeFileSync(join(cwd, "kinds.jsonl"), '{"f": 1.0}\n{"big": 18446744073709551617}\n');
    const r = await runCli(["map", "work.py:kinds", "--args-file", "kinds.jsonl", "--json"], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { elements: { result: unknown }[] };
    assert.deepEqual(
      report.elements.map((e) => e.result),
      [{ f: ["float", "1.0"] }, { big: ["int", "18446744073709551617"] }],
    );
    // Results are printed with the text Python wrote, on a line and in --json alike.
    writeFileSync(join(cwd, "same.jsonl"), '{"v": 1.0}\n{"v": 18446744073709551617}\n{"v": {"k": [2.50, -0.0]}}\n');
    const lines = await runCli(["map", "work.py:same", "--args-file", "same.jsonl"], { cwd });
    assert.equal(lines.code, 0, lines.stderr);
    assert.deepEqual(lines.stdout.trimEnd().split("\n").map((line) => line.split("\t").slice(1)), [
      ["COMPLETED", "1.0"],
      ["COMPLETED", "18446744073709551617"],
      ["COMPLETED", '{"k": [2.5, -0.0]}'],
    ]);
    const json = await runCli(["map", "work.py:same", "--args-file", "same.jsonl", "--json"], { cwd });
    assert.match(json.stdout, /"result": 1\.0,\n[\s\S]*"result": 18446744073709551617,\n[\s\S]*"k": \[\n\s+2\.5,\n\s+-0\.0\n/);
  });

  it("refuses bad input with exit code 2 before anything runs", async () => {
    const cwd = project(-1);
    writeFileSync(join(cwd, "bad.jsonl"), '{"x": 1}\n[1, 2]\n');
    writeFileSync(join(cwd, "broken.jsonl"), '{"x": 1}\n{"x":\n');
    writeFileSync(join(cwd, "empty.jsonl"), "\n");
    const cases: [string[], RegExp][] = [
      [["map", "work.py:sq", "--args-file", "bad.jsonl"], /--args-file bad.jsonl, line 2: expected a JSON object of keyword arguments such as \{"seed": 1\}, got a list/],
      [["map", "work.py:sq", "--args-file", "broken.jsonl"], /line 2: not valid JSON/],
      [["map", "work.py:sq", "--args-file", "empty.jsonl"], /at least one element/],
      [["map", "work.py:sq", "--args-file", "missing.jsonl"], /cannot read the file \(no such file\)/],
      [["run", "work.py:sq", "--args-file", "."], /--args-file \.: cannot read the file \(it is a directory\)/],
      [["map", "work.py:sq"], /give ENTRY and --args-file/],
      [["map", "work.py:sq", "--args-file", "list.jsonl", "--max-parallel", "0"], /--max-parallel: expected a whole number from 1/],
      [["map", "work.py:sq", "--retry-failed", "x"], /give no ENTRY, --args-file or --env/],
      [["map", "--retry-failed", "x", "--env", "A=1"], /give no ENTRY, --args-file or --env/],
      [["map", "work.py:sq", "--args-file", "list.jsonl", "--env", "1A=2"], /--env: expected NAME=VALUE such as OMP_NUM_THREADS=4 .*got "1A=2"/],
      [["run", "work.py:sq", "--env", "NO_VALUE"], /--env: expected NAME=VALUE .*got "NO_VALUE"/],
      [["run", "work.py:sq", "--env", "=x"], /--env: expected NAME=VALUE .*got "=x"/],
      [["map", "work.py", "--args-file", "list.jsonl"], /is a script; map runs a function/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, { cwd });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(readFileSync(join(cwd, "work.py"), "utf8").includes("FAILING"), true);
  });
});
