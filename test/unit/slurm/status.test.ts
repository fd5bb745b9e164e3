import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseJobsOutput } from "../../../src/backends/slurm/jobs-list.js";
import { ABSENT_GRACE_MS, parseStatusLines, parseStatusOutput, resolveStatus, statusSnippet } from "../../../src/backends/slurm/status.js";
import { parseSubmitOutput } from "../../../src/backends/slurm/submit.js";
import { SlurmScheduler } from "../../../src/backends/slurm/watch.js";
import type { Transport } from "../../../src/transport/types.js";
import { RemoteCommandError } from "../../../src/util/errors.js";
import { scratchDir } from "../../helpers/scratch.js";
import { slurmJob } from "./job.js";

const job = (id: string, state = "RUNNING" as const) => slurmJob({ schedulerId: id, state });

test("squeue rows: running with nodes, pending with reason and queue position", () => {
  const probe = parseStatusLines(["squeue-exit|0", "q|11|RUNNING|None|1:02|n[1-2]|debug", "q|12|PENDING|Priority|0:00||debug", "pos|12|3"]);
  assert.deepEqual(resolveStatus(job("11"), probe, 0), { state: "RUNNING", reason: null, exitCode: null, startedAt: null, endedAt: null, nodes: ["n1", "n2"] });
  const pending = resolveStatus(job("12"), probe, 0);
  assert.equal(pending.state, "PENDING");
  assert.equal(pending.reason, "Priority; position 3 in partition debug");
});

test("a job that left the queue takes sacct's final state and exit code", () => {
  const probe = parseStatusLines(["squeue-exit|0", "sacct-exit|0", "a|13|OUT_OF_MEMORY|0:9|2026-11-24T10:00:00|2026-11-24T10:05:00|n3"]);
  const status = resolveStatus(job("13"), probe, 0);
  assert.equal(status.state, "OUT_OF_MEMORY");
  assert.equal(status.exitCode, 137);
  assert.equal(status.endedAt, "2026-11-24T10:05:00");
  assert.deepEqual(status.nodes, ["n3"]);
});

test("sacct's lag: a job known to neither keeps its last state, then its job dir decides", () => {
  const probe = parseStatusLines(["squeue-exit|1", "slurm_load_jobs error: Invalid job id specified", "sacct-exit|0"]);
  assert.equal(resolveStatus(job("14"), probe, 1000).state, "RUNNING");
  const gone = resolveStatus(job("14"), probe, ABSENT_GRACE_MS);
  assert.equal(gone.state, "FAILED");
  assert.match(gone.reason ?? "", /no longer knows job 14/);
  const withRunner = parseStatusLines(["squeue-exit|1", "Invalid job id specified", "sacct-exit|0", 'f|14|{"state": "COMPLETED", "exit_code": 0, "ended_at": "2026-11-24T10:00:00.000Z"}']);
  assert.deepEqual(
    { ...resolveStatus(job("14"), withRunner, 0) },
    { state: "COMPLETED", reason: null, exitCode: 0, startedAt: null, endedAt: "2026-11-24T10:00:00.000Z", nodes: null },
  );
});

test("a runner stopped by a signal waits for Slurm's verdict (a failed node is not a cancel) until the grace ends", () => {
  const signalled = 'f|17|{"state": "CANCELLED", "exit_code": 143}';
  const lagging = parseStatusLines(["squeue-exit|0", "sacct-exit|0", signalled]);
  assert.equal(resolveStatus(job("17"), lagging, 1000).state, "RUNNING");
  assert.equal(resolveStatus(job("17"), lagging, ABSENT_GRACE_MS).state, "CANCELLED");
  const accounted = parseStatusLines(["squeue-exit|0", "sacct-exit|0", "a|17|NODE_FAIL|0:0|2026-11-24T10:00:00|2026-11-24T10:00:01|n1", signalled]);
  assert.equal(resolveStatus(job("17"), accounted, 0).state, "NODE_FAIL");
  const noAccounting = parseStatusLines(["squeue-exit|0", "sacct-exit|1", "a|sacct: error: Slurm accounting storage is disabled", signalled]);
  assert.equal(resolveStatus(job("17"), noAccounting, 0).state, "CANCELLED", "without accounting nothing else will say why");
});

test("no accounting: sacct's error is kept and the runner's status.json decides", () => {
  const probe = parseStatusLines([
    "squeue-exit|0",
    "sacct-exit|1",
    "a|sacct: error: Slurm accounting storage is disabled",
    'f|15|{"state": "FAILED", "exit_code": 1}',
  ]);
  assert.equal(probe.sacct, null);
  assert.match(probe.sacctError ?? "", /accounting storage is disabled/);
  assert.equal(resolveStatus(job("15"), probe, 0).state, "FAILED");
  assert.match(resolveStatus(job("16"), probe, ABSENT_GRACE_MS).reason ?? "", /no job accounting/);
});

test("a squeue failure is an error, never 'the jobs are gone'", () => {
  assert.throws(() => parseStatusLines(["squeue-exit|1", "slurm_load_jobs error: Unable to contact slurm controller"]), RemoteCommandError);
  assert.throws(() => parseStatusOutput("no section here"), RemoteCommandError);
});

test("the status snippet runs against fake squeue/sacct and asks sacct only about jobs that left the queue", () => {
  const dir = scratchDir("/tmp/sr-status-");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const fake = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  fake("squeue", `case "$*" in *"-t PD"*) printf '30\\n21\\n' ;; *) echo "q|20|RUNNING|None|0:05|n1|debug"; echo "q|21|PENDING|Resources|0:00||debug" ;; esac`);
  fake("sacct", `echo "$*" > ${dir}/sacct-args; echo "22|COMPLETED|0:0|2026-11-24T10:00:00|2026-11-24T10:00:01|n2"`);
  mkdirSync(join(dir, "job22"));
  writeFileSync(join(dir, "job22", "status.json"), '{"state": "COMPLETED", "exit_code": 0}');
  const snippet = statusSnippet([
    { schedulerId: "20", dir: join(dir, "job20") },
    { schedulerId: "21", dir: join(dir, "job21") },
    { schedulerId: "22", dir: join(dir, "job22") },
  ]);
  const run = spawnSync("sh", ["-c", snippet], { env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` }, encoding: "utf8" });
  const probe = parseStatusOutput(run.stdout);
  assert.equal(probe.squeue.get("20")?.slurmState, "RUNNING");
  assert.equal(probe.positions.get("21"), 2);
  assert.equal(probe.sacct?.get("22")?.slurmState, "COMPLETED");
  assert.equal(probe.runner.get("22")?.state, "COMPLETED");
  assert.match(spawnSync("cat", [join(dir, "sacct-args")], { encoding: "utf8" }).stdout, /-j 22 /);
});

test("sbatch --parsable output: id, id;cluster, and refusals", () => {
  const section = (...lines: string[]) => ["@@slurmray:slurm-submit:begin@@", ...lines, "@@slurmray:slurm-submit:end@@"].join("\n");
  assert.equal(parseSubmitOutput(section("4242", "sbatch-exit|0")), "4242");
  assert.equal(parseSubmitOutput(section("4243;cluster2", "sbatch-exit|0")), "4243");
  assert.throws(
    () => parseSubmitOutput(section("sbatch: error: Batch job submission failed: Invalid partition name specified", "sbatch-exit|1")),
    (e: unknown) => e instanceof RemoteCommandError && /Invalid partition name/.test(e.message),
  );
});

/** A transport whose script() answers each ask with the next canned status output (or fails). */
function askedSlurm(...answers: (string | Error)[]) {
  const asked: string[] = [];
  const transport = {
    script: async (script: string) => {
      asked.push(script);
      const answer = answers.shift() ?? new Error("no more answers");
      if (answer instanceof Error) throw answer;
      return { stdout: answer, stderr: "", code: 0 };
    },
  } as unknown as Transport;
  return { transport, asked };
}
const statusOutput = (...lines: string[]) => ["@@slurmray:slurm-status:begin@@", "squeue-exit|0", ...lines, "sacct-exit|0", "@@slurmray:slurm-status:end@@"].join("\n");

test("the watch's end: the runner's final word, else the poll that saw the job end", async () => {
  const j = job("30");
  const { transport, asked } = askedSlurm();
  const scheduler = new SlurmScheduler(transport);
  assert.equal((await scheduler.finalStatus(j, { state: "COMPLETED", exit_code: 0 }, null)).state, "COMPLETED");
  const timeout = { state: "TIMEOUT" as const, reason: null, exitCode: 143, startedAt: null, endedAt: null, nodes: ["n2"] };
  assert.deepEqual(await scheduler.finalStatus(j, { state: "CANCELLED", exit_code: 143 }, timeout), timeout);
  assert.equal(asked.length, 0, "no extra command when the runner or the last poll already knows");
});

test("the watch's end: a runner stopped by a signal asks Slurm why, so a node failure is not taken for a cancel", async () => {
  const j = job("31");
  const running = { state: "RUNNING" as const, reason: null, exitCode: null, startedAt: null, endedAt: null, nodes: ["n1"] };
  // The snippet adds the runner's status.json (f|…) for every job squeue no longer shows as active.
  const signalled = 'f|31|{"state": "CANCELLED", "exit_code": 143}';
  const nodeFail = askedSlurm(statusOutput("q|31|NODE_FAIL|NodeDown|0:05|n1|debug", signalled));
  const status = await new SlurmScheduler(nodeFail.transport).finalStatus(j, { state: "CANCELLED", exit_code: 143 }, running);
  assert.equal(status.state, "NODE_FAIL");
  assert.equal(status.exitCode, 143);
  assert.match(nodeFail.asked[0]!, /sr_ids=31\n/);
  // Still completing at first, then sacct's verdict.
  const later = askedSlurm(statusOutput("q|31|COMPLETING|None|0:05|n1|debug"), statusOutput("a|31|PREEMPTED|0:15|2026-11-30T10:00:00|2026-11-30T10:00:05|n1", signalled));
  assert.equal((await new SlurmScheduler(later.transport).finalStatus(j, { state: "CANCELLED" }, running)).state, "PREEMPTED");
  assert.equal(later.asked.length, 2);
  // Slurm unreachable: the runner's word stands.
  const down = askedSlurm(new Error("connection lost"));
  assert.equal((await new SlurmScheduler(down.transport).finalStatus(j, { state: "CANCELLED" }, running)).state, "CANCELLED");
  assert.equal((await new SlurmScheduler(askedSlurm(new Error("lost")).transport).finalStatus(j, null, null)).state, "FAILED");
  // No accounting, and squeue has forgotten the job: asked once, not for ten seconds.
  const noAccounting = askedSlurm(["@@slurmray:slurm-status:begin@@", "squeue-exit|0", "sacct-exit|1", "a|sacct: error: Slurm accounting storage is disabled", signalled, "@@slurmray:slurm-status:end@@"].join("\n"));
  assert.equal((await new SlurmScheduler(noAccounting.transport).finalStatus(j, { state: "CANCELLED" }, running)).state, "CANCELLED");
  assert.equal(noAccounting.asked.length, 1);
});

test("the watcher's poll: one snippet for all jobs, and a job missing from Slurm stays in its grace period", async () => {
  const scheduler = new SlurmScheduler(askedSlurm().transport);
  const jobs = [slurmJob({ id: "a", schedulerId: "31", state: "RUNNING" }), slurmJob({ id: "b", schedulerId: "32", state: "RUNNING" })];
  assert.match(scheduler.pollCommand(jobs), /sr_ids=31,32\n/);
  const output = ["@@slurmray:slurm-status:begin@@", "squeue-exit|0", "q|31|RUNNING|None|0:05|n1|debug", "sacct-exit|0", "@@slurmray:slurm-status:end@@"].join("\n");
  const statuses = await scheduler.parsePoll(output, 0, "", jobs);
  assert.equal(statuses.get(jobs[0]!.id)?.state, "RUNNING");
  assert.equal(statuses.get(jobs[1]!.id)?.state, "RUNNING");
  await assert.rejects(scheduler.parsePoll("slurm_load_jobs error", 0, "", jobs), RemoteCommandError);
});

test("jobs list: slurmray jobs only, efficiency and peak memory from sacct, squeue's state for queued jobs", () => {
  const out = [
    "@@slurmray:slurm-jobs:begin@@",
    "q|41|slurmray-demo-20261124-000000-000001|RUNNING|1:00|n[1-2]|gres:gpu:2",
    "q|42|other-job|RUNNING|1:00|n3|N/A",
    "sacct-exit|0",
    "a|40|slurmray-demo-20261124-000000-000000|COMPLETED|00:01:40|n1|billing=2,cpu=2,gres/gpu=1,mem=1G,node=1|2|00:01:40|",
    "a|40.batch|batch|COMPLETED|00:01:40|n1|cpu=2,mem=1G,node=1|2|00:01:40|2048K",
    "a|40.0|python|COMPLETED|00:01:30|n1|cpu=2,mem=1G,node=1|2|00:01:00|4096K",
    "a|41|slurmray-demo-20261124-000000-000001|PENDING|00:00:00|None assigned|billing=2,cpu=2,node=2|2|00:00:00|",
    "@@slurmray:slurm-jobs:end@@",
  ].join("\n");
  const { jobs, sacctError } = parseJobsOutput(out);
  assert.equal(sacctError, null);
  assert.deepEqual(
    jobs.map((j) => [j.schedulerId, j.state, j.elapsedSeconds, j.nodes, j.gpus, j.cpuEfficiency, j.maxRssBytes]),
    [
      ["41", "RUNNING", 60, ["n1", "n2"], 2, null, null],
      ["40", "COMPLETED", 100, ["n1"], 1, 0.5, 4096 * 1024],
    ],
  );
});
