// The server kind's pure parts: limits checks, queue replies (validated: they come from the target), the
// status a queue entry gives, the "running now" line, and job.sh.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkServerJob } from "../../../src/backends/server/index.js";
import { parseJobs, parseReply, parseSubmittedIds, queueCommand, queueStatus } from "../../../src/backends/server/queue-cli.js";
import { renderServerScript } from "../../../src/backends/server/script.js";
import { runningNow } from "../../../src/backends/server/watch.js";
import type { JobRecord, JobSpec, Resources } from "../../../src/model/job.js";
import { NO_ARGS } from "../../../src/model/job-args.js";

const TARGET = { kind: "server" as const, host: "box", limits: { cpus: 8, mem: 32, gpus: [0, 1] } };

function spec(resources: Partial<Resources> = {}, extra: Partial<JobSpec> = {}): JobSpec {
  return { entry: "m.py:f", args: NO_ARGS, scriptArgs: [], env: {}, ray: false, resources: { nodes: 1, cpus: 1, mem: 1, gpus: 0, time: 60, partition: null, ...resources }, ...extra };
}

function record(fields: Partial<JobRecord> = {}): JobRecord {
  return { id: "20261130-120000-abcdef", target: "box", kind: "server", project: "p", spec: spec(), state: "PENDING", schedulerId: "alice.17", remoteDir: "/h/.slurmray/projects/p/jobs/20261130-120000-abcdef", codeDir: "/h/code", python: "/h/env/bin/python", createdAt: "", startedAt: null, endedAt: null, reason: null, exitCode: null, ...fields };
}

test("a request within the limits passes; over any limit is refused naming it; no limits is a config error", () => {
  checkServerJob(TARGET, spec({ cpus: 8, mem: 32, gpus: 2 }), "box");
  assert.throws(() => checkServerJob(TARGET, spec({ cpus: 9 }), "box"), /^InputError: --cpus 9: target "box" shares at most 8 CPUs \(its limits\.cpus\)/);
  assert.throws(() => checkServerJob(TARGET, spec({ mem: 33 }), "box"), /--mem 33: target "box" shares at most 32 GB/);
  assert.throws(() => checkServerJob(TARGET, spec({ gpus: 3 }), "box"), /--gpus 3: target "box" shares at most 2 GPUs \(ids 0, 1\)/);
  assert.throws(() => checkServerJob({ kind: "server", host: "box" }, spec(), "box"), /a server target needs limits = \{ cpus = N, mem = GB, gpus = \[ids\] \}/);
});

test("queue commands are quoted, with the limits as JSON", () => {
  assert.equal(
    queueCommand("/env/bin/python", "/rt", "/tmp/q dir", { cpus: 2, mem: 4, gpus: [] }, "poll", ["alice.1"]),
    `/env/bin/python /rt/queue.py --queue-dir '/tmp/q dir' --limits '{"cpus":2,"mem":4,"gpus":[]}' poll alice.1`,
  );
});

test("replies are validated: a refusal carries queue.py's message; malformed entries are dropped", () => {
  assert.throws(() => parseReply("Cancelling", "queue.py cancel", 1, '{"error": "job bob.1 belongs to user bob; you can cancel only your own jobs"}', ""), /belongs to user bob/);
  assert.throws(() => parseReply("Polling", "queue.py poll", 0, "not json", "boom"), /boom/);
  const reply = parseReply("Polling", "queue.py poll", 0, JSON.stringify({ jobs: [{ id: "alice.1", state: "RUNNING", cpus: 2 }, { id: "../evil", state: "RUNNING" }, { id: "bob.2", state: "HACKED" }] }), "");
  assert.deepEqual(parseJobs(reply).map((j) => j.id), ["alice.1"]);
  assert.deepEqual(parseSubmittedIds({ id: "alice.42", ids: ["alice.42", "alice.43"] }), ["alice.42", "alice.43"]);
  assert.throws(() => parseSubmittedIds({ id: "alice.42", ids: ["alice.42", "$(id)"] }), /unexpected reply/);
  assert.throws(() => parseSubmittedIds({ id: "alice.42" }), /unexpected reply/);
  assert.throws(() => parseSubmittedIds({ ids: [] }), /unexpected reply/);
});

test("a queue entry becomes the job's status; one the queue lost keeps the record's last word", () => {
  const pending = queueStatus(record(), { id: "alice.17", user: "alice", state: "PENDING", position: 2, reason: "Priority", cpus: 1, mem: 1, gpus: 0, submitted: 1, started: null, ended: null, exitCode: null, gpuIds: [] });
  assert.deepEqual([pending.state, pending.reason], ["PENDING", "Priority, position 2"]);
  const ended = queueStatus(record(), { id: "alice.17", user: "alice", state: "OUT_OF_MEMORY", position: null, reason: "used 3.00 GB, over its 2 GB (--mem)", cpus: 1, mem: 2, gpus: 0, submitted: 1, started: 2, ended: 3, exitCode: -9, gpuIds: [] });
  assert.deepEqual([ended.state, ended.reason, ended.endedAt], ["OUT_OF_MEMORY", "used 3.00 GB, over its 2 GB (--mem)", new Date(3000).toISOString()]);
  assert.equal(queueStatus(record({ state: "RUNNING" }), undefined).state, "RUNNING");
});

test("a queue reply with times no date can hold gives no time, not a thrown RangeError", () => {
  const reply = parseReply("polling", "queue.py poll", 0, JSON.stringify({ jobs: [{ id: "alice.17", user: "alice", state: "COMPLETED", started: 1e300, ended: -1e300 }] }), "");
  const [entry] = parseJobs(reply);
  const status = queueStatus(record(), entry);
  assert.deepEqual([status.state, status.startedAt, status.endedAt], ["COMPLETED", null, null]);
  const other = { id: "bob.1", user: "bob", state: "RUNNING", position: null, reason: "", cpus: 1, mem: 1, gpus: 0, submitted: 1, started: 1e300, ended: null, exitCode: null, gpuIds: [] as number[] } as const;
  assert.equal(runningNow([other]), "running now: bob: 1 CPUs, 1 GB, since ?");
});

test("the running-now line names each user's grant", () => {
  const started = Date.UTC(2026, 10, 30, 14, 2) / 1000;
  const line = runningNow([
    { id: "bob.1", user: "bob", state: "RUNNING", position: null, reason: "", cpus: 4, mem: 16, gpus: 2, submitted: 1, started, ended: null, exitCode: null, gpuIds: [0, 1] },
    { id: "carol.1", user: "carol", state: "PENDING", position: 1, reason: "Resources", cpus: 1, mem: 1, gpus: 0, submitted: 1, started: null, ended: null, exitCode: null, gpuIds: [] },
  ]);
  assert.equal(line, "running now: bob: 4 CPUs, 16 GB, GPUs 0,1, since 14:02");
  assert.equal(runningNow([]), "nothing runs now");
});

test("job.sh runs the runner, or one Ray node sized to the grant first; env names are checked", () => {
  const plain = renderServerScript(record({ spec: spec({}, { env: { SEED: "it's 1" } }) }), "/rt");
  assert.match(plain, /^#!\/bin\/sh\n/);
  assert.ok(plain.includes(`export SEED='it'\\''s 1'\n`), plain);
  assert.match(plain, /exec "\$python" -u "\$runtime_dir\/runner\.py" "\$job_dir"\n$/);
  const ray = renderServerScript(record({ spec: spec({}, { ray: true }) }), "/rt");
  assert.match(ray, /"\$python" "\$ray_cluster" token "\$job_dir"/);
  assert.match(ray, /"\$python" "\$ray_cluster" ready "\$job_dir" 1/);
  assert.throws(() => renderServerScript(record({ spec: spec({}, { env: { "BAD-NAME": "x" } }) }), "/rt"), /environment variable "BAD-NAME"/);
});
