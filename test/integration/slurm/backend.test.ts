// The Slurm backend on the real three-node test bed: submit, watch, poll, cancel, list, log resume.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { listJobs } from "../../../src/backends/slurm/jobs-list.js";
import { SlurmScheduler, slurmWatcher } from "../../../src/backends/slurm/watch.js";
import type { JobStatus } from "../../../src/backends/types.js";
import { JobWatcher } from "../../../src/backends/watch/watcher.js";
import type { JobRecord } from "../../../src/model/job.js";
import { resultForDisplay } from "../../../src/model/outcome.js";
import { requireTestbed, testbed } from "../../helpers/testbed.js";
import { type SlurmBed, slurmBed, submitted } from "./harness.js";

describe("slurm backend on the test bed", { timeout: 240_000 }, () => {
  let bed: SlurmBed | undefined;
  /** Submitted first: Slurm's shortest time limit is a minute, which the other tests' time overlaps. */
  let overTime: JobRecord | undefined;
  before(async () => {
    const tb = testbed();
    if (!tb) return;
    bed = await slurmBed(tb);
    const resources = { nodes: 1, cpus: 1, mem: 0.25, gpus: 0, time: 1, partition: "short" };
    overTime = await submitted(bed, bed.job("timeout", { entry: "funcs.py:sleepy", args: { seconds: 600 }, resources }));
  });
  after(async () => bed?.dispose());

  /** The bed, or a skip (outside CI) / failure (in CI) when the test bed is not running. */
  function need(t: Parameters<typeof requireTestbed>[0]): SlurmBed | undefined {
    return requireTestbed(t) && bed;
  }

  test("a single-node function: one submit command, one watch command, the result comes back", async (t) => {
    const b = need(t);
    if (!b) return;
    const commandsBefore = b.transport.commandCount;
    const job = await submitted(b, b.job("single", { entry: "funcs.py:add", args: { a: 2, b: 40 } }));
    const outcome = await slurmWatcher(b.transport).watch(job);
    assert.equal(outcome.status.state, "COMPLETED", JSON.stringify(outcome));
    assert.deepEqual(resultForDisplay(outcome.outcome.result), 42);
    assert.equal(outcome.outcome.error, null);
    assert.equal(outcome.status.exitCode, 0);
    assert.equal(b.transport.commandCount - commandsBefore, 2);
  });

  test("a failing function: FAILED with the remote traceback", async (t) => {
    const b = need(t);
    if (!b) return;
    const job = await submitted(b, b.job("failing", { entry: "funcs.py:boom" }));
    const outcome = await slurmWatcher(b.transport).watch(job);
    assert.equal(outcome.status.state, "FAILED");
    assert.equal(outcome.status.exitCode, 1);
    assert.equal(outcome.outcome.error?.type, "ValueError");
    assert.match(outcome.outcome.error?.traceback ?? "", /raise ValueError\("boom from the job"\)/);
  });

  test("two concurrent jobs of one project each get their own result", async (t) => {
    const b = need(t);
    if (!b) return;
    const jobs = await Promise.all([1, 2].map((n) => submitted(b, b.job("twins", { entry: "funcs.py:add", args: { a: n, b: 100 } }))));
    const outcomes = await Promise.all(jobs.map((job) => slurmWatcher(b.transport).watch(job)));
    assert.deepEqual(
      outcomes.map((o) => resultForDisplay(o.outcome.result)),
      [101, 102],
    );
  });

  test("poll covers three jobs in one remote command; cancel leaves nothing in squeue", async (t) => {
    const b = need(t);
    if (!b) return;
    const jobs: JobRecord[] = [];
    for (const name of ["p1", "p2", "p3"]) jobs.push(await submitted(b, b.job(name, { entry: "funcs.py:sleepy", args: { seconds: 120 } })));
    let statuses = new Map<string, JobStatus>();
    for (let i = 0; i < 30; i++) {
      const commandsBefore: number = b.transport.commandCount;
      statuses = await b.backend.poll(jobs);
      assert.equal(b.transport.commandCount - commandsBefore, 1);
      if ([...statuses.values()].every((s) => s.state === "RUNNING")) break;
      await sleep(1000);
    }
    assert.deepEqual(
      jobs.map((j) => statuses.get(j.id)?.state),
      ["RUNNING", "RUNNING", "RUNNING"],
    );
    assert.ok(statuses.get(jobs[0]!.id)?.nodes?.[0]?.startsWith("n"));

    await Promise.all(jobs.map((job) => b.backend.cancel(job)));
    const ids = jobs.map((j) => j.schedulerId).join(",");
    const queue = await b.transport.exec(["squeue", "-h", "-t", "PD,R,CG,S,CF", "-j", ids, "-o", "%i %T"]);
    assert.equal(queue.stdout.trim(), "");
    const after = await b.backend.poll(jobs);
    assert.deepEqual(
      jobs.map((j) => after.get(j.id)?.state),
      ["CANCELLED", "CANCELLED", "CANCELLED"],
    );
  });

  test("log follow resumes across a killed connection with no line lost or repeated", async (t) => {
    const b = need(t);
    if (!b) return;
    const n = 40;
    const job = await submitted(b, b.job("follow", { entry: "funcs.py:count", args: { n, delay: 0.15 } }));
    let text = "";
    let killed = false;
    let reconnects = 0;
    const watcher = new JobWatcher(b.transport, new SlurmScheduler(b.transport), { baseDelayMs: 200 });
    const kill = async () => {
      const master = await b.transport.masterPid();
      assert.ok(master);
      process.kill(master, "SIGKILL");
    };
    let killing: Promise<void> | undefined;
    const onLog = (chunk: string) => {
      text += chunk;
      if (!killed && text.includes("line 10\n")) {
        killed = true;
        killing = kill();
      }
    };
    await watcher.watch(job, { onLog, onReconnect: () => reconnects++ });
    await killing;
    assert.ok(reconnects >= 1, "the connection was cut and the watch reconnected");
    const counted = text.split("\n").filter((l) => l.startsWith("line "));
    assert.deepEqual(
      counted,
      Array.from({ length: n }, (_, i) => `line ${i}`),
    );
  });

  test("jobs list shows finished slurmray jobs with accounting figures", async (t) => {
    const b = need(t);
    if (!b) return;
    const job = await submitted(b, b.job("listed", { entry: "funcs.py:count", args: { n: 8, delay: 0.25 } }));
    await slurmWatcher(b.transport).watch(job);
    let listed = null;
    for (let i = 0; i < 10 && listed?.state !== "COMPLETED"; i++) {
      const { jobs, sacctError } = await listJobs(b.transport);
      assert.equal(sacctError, null);
      listed = jobs.find((j) => j.schedulerId === job.schedulerId) ?? null;
      if (listed?.state !== "COMPLETED") await sleep(1000);
    }
    assert.equal(listed?.state, "COMPLETED");
    assert.equal(listed?.name, `slurmray-listed-${job.id}`);
    assert.deepEqual(listed?.nodes.length, 1);
    assert.ok((listed?.elapsedSeconds ?? 0) >= 1);
    const efficiency = listed?.cpuEfficiency ?? -1;
    assert.ok(efficiency > 0 && efficiency <= 1, `CPU efficiency ${efficiency}`);
  });

  test("a job over its time limit ends TIMEOUT", { timeout: 200_000 }, async (t) => {
    const b = need(t);
    if (!b) return;
    const outcome = await slurmWatcher(b.transport).watch(overTime!);
    assert.equal(outcome.status.state, "TIMEOUT", JSON.stringify(outcome.status));
  });
});
