// Local files are data: a tampered or corrupt job record is refused with a message naming the file, and
// never reaches a remote command or a signal.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { formatHandle, processStartTime } from "../../../src/backends/local/handle.js";
import { LocalBackend } from "../../../src/backends/local/index.js";
import { SlurmBackend } from "../../../src/backends/slurm/index.js";
import { findJob, jobsDir, listJobs, readJobs, saveJob } from "../../../src/jobs/registry.js";
import { createTransport } from "../../../src/transport/index.js";
import type { Transport } from "../../../src/transport/types.js";
import { InputError } from "../../../src/util/errors.js";
import { slurmJob } from "../slurm/job.js";

const HOSTILE_ID = "$(id>/tmp/x)";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function scratch(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function project(): string {
  const root = scratch("sr-records-");
  mkdirSync(jobsDir(root), { recursive: true });
  return root;
}

/** A transport that records the commands it is asked to run, and runs none. */
function recordingTransport(): Transport & { scripts: string[] } {
  const scripts: string[] = [];
  const transport = createTransport({ kind: "local" });
  return Object.assign(Object.create(transport) as Transport, {
    scripts,
    script: async (text: string) => {
      scripts.push(text);
      return { code: 0, stdout: "", stderr: "" };
    },
  });
}

test("a record whose schedulerId is a shell command is refused, naming the file and the fix; others still list", () => {
  const root = project();
  const good = slurmJob({ id: "20261124-135501-aaaaaa", schedulerId: "12" });
  saveJob(root, good);
  const bad = slurmJob({ id: "20261124-135502-bbbbbb", schedulerId: HOSTILE_ID, state: "RUNNING" });
  writeFileSync(join(jobsDir(root), `${bad.id}.json`), JSON.stringify(bad));
  writeFileSync(join(jobsDir(root), "20261124-135503-cccccc.json"), "{ not json");

  assert.deepEqual(listJobs(root).map((j) => j.id), [good.id]);
  const { invalid } = readJobs(root);
  assert.equal(invalid.length, 2);
  assert.throws(() => findJob(root, "20261124-135502"), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /20261124-135502-bbbbbb\.json/);
    assert.match(error.message, /schedulerId/);
    assert.match(error.message, /Delete it \(rm .*\) or restore it/);
    return true;
  });
  assert.throws(() => findJob(root, "20261124-135503"), /20261124-135503-cccccc\.json is not valid JSON\. Delete it/);
  assert.throws(() => findJob(root), /20261124-135503-cccccc\.json is not valid JSON/, "the newest job's record is the invalid one");
  writeFileSync(join(jobsDir(root), "20261124-135400-eeeeee.json"), "[]");
  saveJob(root, { ...good, id: "20261124-135600-ffffff" });
  assert.equal(findJob(root).id, "20261124-135600-ffffff");
});

test("a record whose envHash is not a snapshot hash is refused; one without it (written before envHash) still reads", () => {
  const root = project();
  const bad = slurmJob({ id: "20261124-135501-aaaaaa", schedulerId: "12", envHash: `x" ${HOSTILE_ID}` });
  writeFileSync(join(jobsDir(root), `${bad.id}.json`), JSON.stringify(bad));
  assert.throws(() => findJob(root, bad.id), /envHash: expected a snapshot hash \(32 hex digits\)/);
  const old = slurmJob({ id: "20261124-135502-bbbbbb", schedulerId: "13" });
  saveJob(root, old);
  assert.equal(findJob(root, old.id).envHash, undefined);
  saveJob(root, { ...old, id: "20261124-135503-cccccc", envHash: "0123456789abcdef0123456789abcdef" });
  assert.equal(findJob(root, "20261124-135503-cccccc").envHash, "0123456789abcdef0123456789abcdef");
});

test("a record renamed to another job's id is refused", () => {
  const root = project();
  const job = slurmJob({ id: "20261124-135501-aaaaaa", schedulerId: "12" });
  writeFileSync(join(jobsDir(root), "20261124-135509-dddddd.json"), JSON.stringify(job));
  assert.throws(() => findJob(root, "20261124-135509"), /does not match the file name/);
});

test("the Slurm backend refuses a hostile scheduler id before running any command", async () => {
  const transport = recordingTransport();
  const backend = new SlurmBackend(transport, { target: {}, runtimeDir: "/rt" });
  const job = slurmJob({ schedulerId: HOSTILE_ID, state: "RUNNING" });
  await assert.rejects(backend.poll([job]), InputError);
  await assert.rejects(backend.cancel(job), InputError);
  assert.deepEqual(transport.scripts, []);
});

/** A `sleep` in its own process group, as a local job's runner would be. */
async function groupLeader(): Promise<number> {
  const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
  child.unref();
  await new Promise((resolve) => child.once("spawn", resolve));
  return child.pid!;
}

/** Whether the process runs (a zombie, not yet reaped by this test's process, does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

test("a local job's pid 1 (or 0) is never signalled", async (t) => {
  // Recorded, not sent: kill(-1) would signal every process of this user, this test included.
  const signalled: number[] = [];
  t.mock.method(process, "kill", (pid: number) => {
    signalled.push(pid);
    return true;
  });
  const backend = new LocalBackend(createTransport({ kind: "local" }));
  for (const schedulerId of ["1:123", "0:123", "1", "0"]) {
    const job = slurmJob({ kind: "local", schedulerId, state: "RUNNING", remoteDir: scratch("sr-local-") });
    await backend.cancel(job);
    await backend.poll([job]);
  }
  assert.deepEqual(signalled, []);
});

test("a reused pid (same pid, another start time) is never signalled; the job's own group is", async () => {
  const backend = new LocalBackend(createTransport({ kind: "local" }));
  const pid = await groupLeader();
  const stranger = slurmJob({ kind: "local", schedulerId: formatHandle(pid, "1"), state: "RUNNING", remoteDir: scratch("sr-local-") });
  await backend.cancel(stranger);
  const polled = await backend.poll([stranger]);
  assert.ok(alive(pid), "the process that reused the pid is left alone");
  assert.notEqual(polled.get(stranger.id)?.state, "RUNNING", "nor is it taken for the job");

  const own = { ...stranger, schedulerId: formatHandle(pid, processStartTime(pid)!) };
  assert.equal((await backend.poll([own])).get(own.id)?.state, "RUNNING");
  await backend.cancel(own);
  assert.ok(!alive(pid), "the job's own group is stopped");
});
