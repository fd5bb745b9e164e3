// `slurmray map` on the real Slurm test bed: one job array of 20 elements with a cap of 5. At most 5 ran at
// once (from sacct's start and end times), element 7 fails alone, the other results come back in order;
// then --retry-failed submits element 7 only. The elements are followed through the connection's one watcher:
// a map costs the same few remote commands however long it runs, its last end is noticed at once, and Ctrl-C
// cancels every element.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig } from "../../../src/config/load.js";
import { mapJob } from "../../../src/jobs/map.js";
import { argsFromValues } from "../../../src/model/job-args.js";
import { printedValue } from "../../../src/model/outcome.js";
import { findJob } from "../../../src/jobs/registry.js";
import { closeSessions } from "../../../src/jobs/session.js";
import { runCli, startCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed, scratchBaseDir, sshArgs, type TestBed, testbed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";
import { maxOverlap } from "./overlap.js";

const WORK = `import os, time

def trial(seed):
    time.sleep(2)
    if seed == BROKEN:
        raise ValueError(f"seed {seed} is broken")
    if seed % 2 == 0:
        os.makedirs("outputs", exist_ok=True)
        with open(f"outputs/seed-{seed}.txt", "w") as f:
            f.write(str(seed))
    return {"seed": seed, "task": os.environ.get("SLURM_ARRAY_TASK_ID")}

def slow(seed):
    time.sleep(120)

def nap(seconds):
    time.sleep(seconds)
    return seconds
`;

function remote(tb: TestBed, command: string): string {
  const r = spawnSync("ssh", [...sshArgs(tb), command], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** sacct's rows of an array: element index → [start, end] in seconds. */
function sacctTimes(tb: TestBed, arrayId: string): Map<number, { start: number; end: number; state: string }> {
  const rows = new Map<number, { start: number; end: number; state: string }>();
  for (const line of remote(tb, `sacct -n -P -X -j ${arrayId} -o JobID,State,Start,End`).trim().split("\n")) {
    const [id, state, start, end] = line.split("|") as [string, string, string, string];
    const index = /_(\d+)$/.exec(id)?.[1];
    if (index !== undefined) rows.set(Number(index), { start: Date.parse(start) / 1000, end: Date.parse(end) / 1000, state });
  }
  return rows;
}

/** sacct lags squeue by a few seconds (more on a busy machine): asked until it knows `count` elements' ends. */
async function settledSacct(tb: TestBed, arrayId: string, count: number): Promise<ReturnType<typeof sacctTimes>> {
  let times = sacctTimes(tb, arrayId);
  for (let i = 0; i < 60 && (times.size < count || [...times.values()].some((t) => Number.isNaN(t.end))); i++) {
    await sleep(500);
    times = sacctTimes(tb, arrayId);
  }
  return times;
}

describe("slurmray map on the Slurm test bed", () => {
  let base = "";
  let cwd = "";
  before(() => {
    const tb = testbed();
    if (!tb) return;
    base = scratchBaseDir(tb);
    cwd = tempProject({ "work.py": `BROKEN = 7\n${WORK}`, "slurmray.toml": testbedToml(tb, { baseDir: base }) });
    execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
    writeFileSync(join(cwd, "seeds.jsonl"), `${Array.from({ length: 20 }, (_, seed) => JSON.stringify({ seed })).join("\n")}\n`);
  });
  after(() => {
    const tb = testbed();
    if (tb && base) removeRemote(tb, [base]);
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it("20 elements, at most 5 at once, element 7 fails alone; --retry-failed reruns only element 7", { timeout: 300_000 }, async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const r = await runCli(["map", "work.py:trial", "--args-file", "seeds.jsonl", "--max-parallel", "5", "--json"], { cwd, timeoutMs: 240_000 });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.elements.length, 20);
    assert.doesNotMatch(r.stderr, /Warning/);
    // Progress as the watcher tells it ("HH:MM:SS job J: 5 running, 15 pending of 20"): a line a second at most.
    const progress = r.stderr.split("\n").filter((line) => /^\d\d:\d\d:\d\d job \S+: .* of 20$/.test(line));
    assert.ok(progress.length >= 3, `progress lines while the array ran:\n${r.stderr}`);
    const stamps = progress.map((line) => line.slice(0, 8));
    assert.equal(new Set(stamps).size, stamps.length, `at most one progress line a second:\n${progress.join("\n")}`);
    for (const [index, element] of report.elements.entries()) {
      assert.equal(element.index, index);
      assert.equal(element.id, `${report.job_id}_${index}`);
      if (index === 7) {
        assert.equal(element.state, "FAILED");
        assert.match(element.error.traceback, /ValueError: seed 7 is broken/);
      } else {
        assert.equal(element.state, "COMPLETED", JSON.stringify(element));
        assert.deepEqual(element.result, { seed: index, task: String(index) });
      }
    }
    // What the even seeds wrote under outputs/ came back, each element's into its own folder, in one command.
    assert.deepEqual([report.outputs.dir, report.outputs.files], [join(cwd, ".slurmray", "jobs", report.job_id), 10]);
    for (let seed = 0; seed < 20; seed++) {
      const file = join(cwd, ".slurmray", "jobs", report.job_id, String(seed), "outputs", `seed-${seed}.txt`);
      assert.equal(existsSync(file) ? readFileSync(file, "utf8") : null, seed % 2 === 0 ? String(seed) : null, file);
    }
    // One submission for the whole array: code, env and the array in a handful of commands, then the polls.
    const record = JSON.parse((await runCli(["status", report.job_id, "--json"], { cwd })).stdout);
    const arrayId = record.schedulerId as string;
    assert.deepEqual(record.array.elements.map((e: { schedulerId: string }) => e.schedulerId), report.elements.map((_: unknown, i: number) => `${arrayId}_${i}`));
    const times = await settledSacct(tb, arrayId, 20);
    assert.equal(times.size, 20, `sacct knows every element: ${[...times.keys()]}`);
    const overlap = maxOverlap([...times.values()]);
    assert.ok(overlap <= 5, `at most 5 elements ran at once, sacct says ${overlap}`);
    assert.ok(overlap >= 3, `the elements ran in parallel, sacct says ${overlap} at most`);
    assert.equal(times.get(7)!.state, "FAILED");

    // J_N on the bed.
    assert.equal(JSON.parse((await runCli(["status", `${report.job_id}_7`, "--json"], { cwd })).stdout).state, "FAILED");
    assert.match((await runCli(["logs", `${report.job_id}_7`], { cwd })).stdout, /ValueError: seed 7 is broken/);
    assert.deepEqual(JSON.parse((await runCli(["result", `${report.job_id}_3`], { cwd })).stdout), { seed: 3, task: "3" });

    // Fixed; only element 7 goes in again, as its own array of one.
    writeFileSync(join(cwd, "work.py"), `BROKEN = -1\n${WORK}`);
    const retry = await runCli(["map", "--retry-failed", report.job_id, "--json"], { cwd, timeoutMs: 120_000 });
    assert.equal(retry.code, 0, retry.stderr);
    const retried = JSON.parse(retry.stdout);
    assert.deepEqual(
      retried.elements.map((e: { result: unknown }) => e.result),
      Array.from({ length: 20 }, (_, seed) => ({ seed, task: String(seed) })),
    );
    const again = JSON.parse((await runCli(["status", report.job_id, "--json"], { cwd })).stdout);
    assert.notEqual(again.schedulerId, arrayId);
    assert.deepEqual([...(await settledSacct(tb, again.schedulerId, 1)).keys()], [7], "the retry submitted element 7 only");
    assert.equal(again.array.elements[7].schedulerId, `${again.schedulerId}_7`);
    assert.equal(again.array.elements[6].schedulerId, `${arrayId}_6`, "the others keep their first run");
  });

  it("Ctrl-C in attach J stops watching only; cancel J_N cancels one element, cancel J every element left; Slurm holds none after", { timeout: 180_000 }, async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    writeFileSync(join(cwd, "three.jsonl"), '{"seed": 0}\n{"seed": 1}\n{"seed": 2}\n');
    const submitted = await runCli(["map", "work.py:slow", "--args-file", "three.jsonl", "--max-parallel", "2", "--detach"], { cwd, timeoutMs: 120_000 });
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = submitted.stdout.trim();
    const { schedulerId } = JSON.parse((await runCli(["status", id, "--json"], { cwd })).stdout);
    // Ctrl-C during attach of an array only stops watching it (through the watcher): every element goes on.
    const attached = startCli(["attach", id], { cwd, timeoutMs: 60_000 });
    await sleep(3000);
    attached.child.kill("SIGINT");
    const stopped = await attached.done;
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /Stopped watching/);
    assert.equal(remote(tb, `squeue -h -r -j ${schedulerId} -o %i`).trim().split("\n").length, 3, "attach cancelled nothing");
    assert.equal((await runCli(["cancel", `${id}_2`], { cwd })).code, 0);
    const queued = remote(tb, `squeue -h -r -j ${schedulerId} -o %i 2>/dev/null || true`).trim().split("\n").sort();
    assert.deepEqual(queued, [`${schedulerId}_0`, `${schedulerId}_1`]);
    assert.equal((await runCli(["cancel", id], { cwd })).code, 0);
    assert.equal(remote(tb, `squeue -h -r -j ${schedulerId} -o %i 2>/dev/null || true`).trim(), "");
    const record = JSON.parse((await runCli(["status", id, "--json"], { cwd })).stdout);
    assert.equal(record.state, "CANCELLED");
    assert.deepEqual(record.array.elements.map((e: { state: string }) => e.state), ["CANCELLED", "CANCELLED", "CANCELLED"]);
  });
  it("map --detach, then attach J: every result in order, and the elements' outputs come back", { timeout: 120_000 }, async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    writeFileSync(join(cwd, "three.jsonl"), '{"seed": 0}\n{"seed": 1}\n{"seed": 2}\n');
    const submitted = await runCli(["map", "work.py:trial", "--args-file", "three.jsonl", "--detach", "--json"], { cwd, timeoutMs: 60_000 });
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = JSON.parse(submitted.stdout).job_id as string;
    const attached = await runCli(["attach", id, "--json"], { cwd, timeoutMs: 90_000 });
    assert.equal(attached.code, 0, attached.stderr);
    const report = JSON.parse(attached.stdout);
    assert.deepEqual(report.elements.map((e: { state: string; result: unknown }) => [e.state, e.result]), [0, 1, 2].map((seed) => ["COMPLETED", { seed, task: String(seed) }]));
    for (const seed of [0, 2]) assert.equal(readFileSync(join(cwd, ".slurmray", "jobs", id, String(seed), "outputs", `seed-${seed}.txt`), "utf8"), String(seed));
    assert.equal(existsSync(join(cwd, ".slurmray", "jobs", id, "1", "outputs")), false);
  });

  it("a map's remote commands do not grow with its run time, and its last end is noticed within a second", { timeout: 240_000 }, async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    /** In this process, on a fresh connection (so report.remote_commands counts this map's commands only). */
    const map = async (seconds: number) => {
      await closeSessions();
      let noticedAt = 0;
      const report = await mapJob({
        cwd,
        entry: "work.py:nap",
        argsList: Array.from({ length: 4 }, () => argsFromValues({ seconds })),
        resources: {},
        dryRun: false,
        onStep: ({ step, phase }) => {
          if (step === "run" && phase === "end") noticedAt = Date.now();
        },
      });
      assert.deepEqual(report.elements.map((e) => [e.state, printedValue(e.result)]), Array.from({ length: 4 }, () => ["COMPLETED", seconds]));
      return { report, noticedAt };
    };
    try {
      await map(0); // code and env synced, if an earlier test did not
      const short = await map(0);
      const long = await map(3);
      // Polling every 250 ms cost about 4 more commands a second; the watcher is one command however long.
      assert.equal(long.report.remote_commands, short.report.remote_commands, "the 3 s map cost more remote commands than the instant one");
      // A probe, the submission and the one watcher, which also brings every element's result back.
      assert.equal(long.report.remote_commands, 3, `a warm map of 4 costs ${long.report.remote_commands} remote commands`);
      // The runner's end time of the last element (same clock: the bed is on this machine) to the run's end.
      const ends = findJob(loadConfig(cwd).root, long.report.job_id).array!.elements.map((e) => Date.parse(e.endedAt!));
      const delay = long.noticedAt - Math.max(...ends);
      assert.ok(delay >= 0 && delay < 1000, `the last element's end was noticed ${delay} ms after it`);
    } finally {
      await closeSessions();
    }
  });

  it("Ctrl-C during map cancels every element; Slurm holds none of them after", { timeout: 120_000 }, async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    writeFileSync(join(cwd, "three.jsonl"), '{"seed": 0}\n{"seed": 1}\n{"seed": 2}\n');
    const { child, done } = startCli(["map", "work.py:slow", "--args-file", "three.jsonl", "--max-parallel", "2"], { cwd, timeoutMs: 100_000 });
    // Interrupted once the watcher has seen elements run (the progress line says so).
    let seen = "";
    await new Promise<void>((resolve) => {
      child.stderr!.on("data", (d: string) => {
        seen += d;
        if (/\d running/.test(seen)) resolve();
      });
      child.on("close", () => resolve());
    });
    child.kill("SIGINT");
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    const id = /Interrupted: job (\S+) was cancelled/.exec(r.stderr)?.[1];
    assert.ok(id, r.stderr);
    const record = JSON.parse((await runCli(["status", id, "--json"], { cwd })).stdout);
    assert.deepEqual(record.array.elements.map((e: { state: string }) => e.state), ["CANCELLED", "CANCELLED", "CANCELLED"]);
    assert.equal(remote(tb, `squeue -h -r -j ${record.schedulerId} -o %i 2>/dev/null || true`).trim(), "");
  });
});
