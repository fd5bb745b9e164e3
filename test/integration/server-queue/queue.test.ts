// The server kind's queue on the test bed's sshd, with its two users: order and concurrency, fairness
// between users, a SIGKILLed job, cancel of another user's job, a corrupt entry, exclusive GPU ids under
// simultaneous submissions, and a job outliving its ssh connection.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { quoteArgv } from "../../../src/util/shell.js";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { requireTestbed, type TestBed, testbed } from "../../helpers/testbed.js";
import { type Job, QueueBed, type Times } from "./harness.js";

const CPUS2 = { cpus: 2, mem: 4, gpus: [] };
const CPUS1 = { cpus: 1, mem: 4, gpus: [] };

/** At most `limit` of these intervals overlap at any instant. */
function maxOverlap(times: Times[]): number {
  const events = times.flatMap((t) => [[t.start, 1] as const, [t.end, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of events) {
    now += step;
    most = Math.max(most, now);
  }
  return most;
}

const started = (job: Job) => Number(job["started"]);

describe("server queue on the test bed", () => {
  let tb: TestBed;
  let bed: QueueBed;

  before(() => {
    const found = testbed();
    if (found && process.getuid?.() === 0) {
      tb = found;
      bed = new QueueBed(tb);
    }
  });
  after(async () => {
    await bed?.dispose();
  });

  /** The bed, or skips (no bed, or not root: the queue dir must be root-owned). */
  function ready(t: Parameters<typeof requireTestbed>[0]): boolean {
    if (!requireTestbed(t)) return false;
    if (!bed) {
      t.skip("needs root to create the root-owned sticky queue dir");
      return false;
    }
    return true;
  }

  test("three CPU-bound jobs on cpus = 2: two run at once on distinct cores, the third after one ends", async (t) => {
    if (!ready(t)) return;
    const jobs = await bed.submitMany(tb.user, 3, CPUS2, ["--cpus", "1"], 1.5, "busy");
    const polled = await bed.waitStates(tb.user, jobs.map((j) => j.id), ["COMPLETED"]);
    const times = jobs.map((j) => bed.times(j.jobDir));
    assert.equal(maxOverlap(times), 2, JSON.stringify(times));
    // In order of submission: the third starts only when the first of the two ends.
    assert.ok(started(polled[2]!) >= Math.min(times[0]!.end, times[1]!.end) - 0.05, JSON.stringify({ polled, times }));
    assert.ok(started(polled[0]!) <= started(polled[1]!) && started(polled[1]!) < started(polled[2]!));
    assert.notDeepEqual(times[0]!.cores, times[1]!.cores, "the two concurrent jobs have distinct cores");
    assert.deepEqual(times.map((x) => x.cores.length), [1, 1, 1]);
  });

  test("user A queues 5, then user B queues 1: B's job starts before A's third", async (t) => {
    if (!ready(t)) return;
    // Long jobs, ended by cancel: the order is then independent of how fast ssh is under load.
    const a = await bed.submitMany(tb.user, 5, CPUS2, ["--cpus", "1"], 60);
    await bed.waitStates(tb.user, [a[0]!.id, a[1]!.id], ["RUNNING"]);
    const b = await bed.submit(tb.user2, CPUS2, ["--cpus", "1"], 60);
    const [bWaiting] = await bed.poll(tb.user2, [b.id]);
    assert.deepEqual([bWaiting!["state"], bWaiting!["position"]], ["PENDING", 1], "B is next in line, ahead of A's 3 waiting");
    await bed.queue(tb.user, ["cancel", a[0]!.id]);
    const [bRunning] = await bed.waitStates(tb.user2, [b.id], ["RUNNING"]);
    const [aThird] = await bed.poll(tb.user, [a[2]!.id]);
    assert.deepEqual([aThird!["state"], aThird!["position"]], ["PENDING", 1]);
    await bed.queue(tb.user, ["cancel", a[1]!.id]);
    const [aRunning] = await bed.waitStates(tb.user, [a[2]!.id], ["RUNNING"]);
    assert.ok(started(bRunning!) < started(aRunning!));
    for (const job of [...a.slice(2)]) await bed.queue(tb.user, ["cancel", job.id]);
    await bed.queue(tb.user2, ["cancel", b.id]);
  });

  test("SIGKILL of a running job frees its resources for the next", async (t) => {
    if (!ready(t)) return;
    const holder = await bed.submit(tb.user, CPUS1, [], 60);
    const [running] = await bed.waitStates(tb.user, [holder.id], ["RUNNING"]);
    const next = await bed.submit(tb.user2, CPUS1, [], 0.2);
    const [waiting] = await bed.poll(tb.user2, [next.id]);
    assert.equal(waiting!["state"], "PENDING");
    process.kill(-Number(running!["pid"]), "SIGKILL");
    // The holder would run for a minute: the next job can only start because the kill freed its cpu.
    await bed.waitStates(tb.user2, [next.id], ["RUNNING", "COMPLETED"]);
    const [killed] = await bed.poll(tb.user, [holder.id]);
    assert.deepEqual([killed!["state"], killed!["reason"]], ["FAILED", "killed by signal 9"]);
  });

  test("user B cannot cancel user A's job: a clear refusal, and the job runs on", async (t) => {
    if (!ready(t)) return;
    const job = await bed.submit(tb.user, CPUS2, [], 60);
    await bed.waitStates(tb.user, [job.id], ["RUNNING"]);
    const refused = await bed.queue(tb.user2, ["cancel", job.id]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`job ${job.id.replace(".", "\\.")} belongs to user ${tb.user}; you can cancel only your own jobs`));
    const [still] = await bed.poll(tb.user2, [job.id]);
    assert.equal(still!["state"], "RUNNING");
    // Nor can B rewrite A's entry: the file and A's dir are A's, 0644 and 0755.
    const file = join(bed.queueDir, tb.user, `${job.id.split(".").pop()}.json`);
    const write = await bed.ssh(tb.user2, `echo '{}' > ${file}`);
    assert.notEqual(write.code, 0);
    const own = await bed.queue(tb.user, ["cancel", job.id]);
    assert.deepEqual(own.json, { id: job.id, state: "CANCELLED", cancelled: true });
  });

  test("a corrupt entry never blocks the others; its owner's process sets it aside and its supervisor restores it", async (t) => {
    if (!ready(t)) return;
    const [holder, waiter] = await bed.submitMany(tb.user, 2, CPUS1, [], 60);
    await bed.waitStates(tb.user, [holder!.id], ["RUNNING"]);
    const file = join(bed.queueDir, tb.user, `${waiter!.id.split(".").pop()}.json`);
    const corrupt = await bed.ssh(tb.user, `printf '{"id": ' > ${file}`);
    assert.equal(corrupt.code, 0, corrupt.stderr);
    const other = await bed.queue(tb.user2, ["list"]);
    assert.equal(other.code, 0, other.stderr);
    assert.doesNotMatch(other.stderr, /warning/, "another user's corrupt file is not this user's concern");
    const other2 = await bed.submit(tb.user2, CPUS2, [], 0.1);
    await bed.waitStates(tb.user2, [other2.id], ["COMPLETED"]);
    // The waiting job's supervisor (or A's next command) set the corrupt file aside; the entry is back.
    const [restored] = await bed.waitStates(tb.user, [waiter!.id], ["PENDING"]);
    assert.equal(restored!["position"], 1);
    assert.ok(readdirSync(join(bed.queueDir, tb.user)).some((f) => f.startsWith(`${file.split("/").pop()}.corrupt-`)));
    await bed.queue(tb.user, ["cancel", holder!.id]);
    await bed.waitStates(tb.user, [waiter!.id], ["RUNNING"]);
    await bed.queue(tb.user, ["cancel", waiter!.id]);
  });

  test("two users submitting at the same instant, 20 times, never hold the same GPU id at once", async (t) => {
    if (!ready(t)) return;
    const limits = { cpus: 2, mem: 4, gpus: [0, 1] };
    const jobs: { id: string; jobDir: string; user: string }[] = [];
    for (let round = 0; round < 20; round++) {
      const pair = await Promise.all(
        [tb.user, tb.user2].map(async (user) => ({ ...(await bed.submit(user, limits, ["--gpus", "1"], 0.15)), user })),
      );
      jobs.push(...pair);
    }
    const polled = new Map<string, Job>();
    for (const user of [tb.user, tb.user2]) {
      const ids = jobs.filter((j) => j.user === user).map((j) => j.id);
      for (const job of await bed.waitStates(user, ids, ["COMPLETED"], 60_000)) polled.set(String(job["id"]), job);
    }
    const times = jobs.map((j) => ({ ...bed.times(j.jobDir), id: j.id }));
    for (const x of times) {
      assert.ok(["0", "1"].includes(x.cuda), `CUDA_VISIBLE_DEVICES=${x.cuda}`);
      assert.deepEqual(polled.get(x.id)!["gpu_ids"], [Number(x.cuda)]);
    }
    for (const gpu of ["0", "1"]) assert.equal(maxOverlap(times.filter((x) => x.cuda === gpu)), 1, `GPU ${gpu} shared`);
  });

  test("one submit queues one job per --job-dir (an array's elements): each runs in its own dir; a bad dir queues none", async (t) => {
    if (!ready(t)) return;
    const dirs = [1, 2, 3].map((i) => join(bed.jobsDir, `${tb.user}-many-${i}`));
    assert.equal((await bed.ssh(tb.user, `mkdir -p ${quoteArgv(dirs)}`)).code, 0);
    const submit = (jobDirs: string[], extra: string[] = []) =>
      bed.queue(tb.user, ["submit", ...jobDirs.flatMap((d) => ["--job-dir", d]), "--mem", "0.2", "--limits", JSON.stringify(CPUS2), "--pass-job-dir", ...extra, "--", "sh", "-c", 'cd "$1" && echo "$1" > seen', "sh"]);
    const refused = await submit([dirs[0]!, join(bed.jobsDir, "missing"), dirs[1]!]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--job-dir .*missing is not a directory/);
    const withOutput = await submit(dirs, ["--output", join(dirs[0]!, "x.log")]);
    assert.equal(withOutput.code, 2);
    assert.match(withOutput.stderr, /--output names one job's log/);
    // A queued job's supervisor writes queue.log in its dir at once: none was queued.
    for (const dir of dirs) assert.equal(existsSync(join(dir, "queue.log")), false, `${dir} was queued by a refused submit`);
    const queued = await submit(dirs);
    assert.equal(queued.code, 0, queued.stderr);
    const ids = queued.json["ids"] as string[];
    assert.equal(ids.length, 3);
    assert.equal(new Set(ids).size, 3);
    assert.equal(queued.json["id"], ids[0]);
    await bed.waitStates(tb.user, ids, ["COMPLETED"]);
    for (const dir of dirs) assert.equal(readFileSync(join(dir, "seen"), "utf8").trim(), dir, "each job got its own dir as its last argument");
  });

  test("a submit of several dirs queues all or none: when one job cannot be queued, those queued before it are withdrawn", async (t) => {
    if (!ready(t)) return;
    const dirs = [1, 2, 3].map((i) => join(bed.jobsDir, `${tb.user}-allornone-${i}`));
    // The second dir passes the checks, but its supervisor cannot open its queue.log (a directory), so it never starts.
    assert.equal((await bed.ssh(tb.user, `mkdir -p ${quoteArgv(dirs)} ${quoteArgv([join(dirs[1]!, "queue.log")])}`)).code, 0);
    const failed = await bed.queue(tb.user, ["submit", ...dirs.flatMap((d) => ["--job-dir", d]), "--mem", "0.2", "--limits", JSON.stringify(CPUS2), "--pass-job-dir", "--", "sh", "-c", 'cd "$1" && echo ran > seen', "sh"]);
    assert.notEqual(failed.code, 0, "the submit reports the failure");
    assert.match(String(failed.json["error"]), /supervisor of .* did not start/);
    const active = await bed.queue(tb.user, ["active"]);
    assert.equal(active.code, 0, active.stderr);
    const activeDirs = active.json["job_dirs"] as string[];
    for (const dir of dirs) assert.ok(!activeDirs.includes(dir), `${dir} is still queued after its submit failed`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(existsSync(join(dirs[0]!, "seen")), false, "the job queued before the failure never ran");
  });

  test("a job outlives its ssh connection, which returns at once", async (t) => {
    if (!ready(t)) return;
    const job = await bed.submit(tb.user, CPUS2, [], 5);
    // ssh has returned (the supervisor holds none of its pipes) while the job still runs.
    const [running] = await bed.poll(tb.user, [job.id]);
    assert.ok(["PENDING", "RUNNING"].includes(String(running!["state"])), JSON.stringify(running));
    const [done] = await bed.waitStates(tb.user, [job.id], ["COMPLETED"]);
    assert.equal(done!["exit_code"], 0);
    const times = bed.times(job.jobDir);
    assert.ok(times.end - times.start >= 5);
    assert.equal(readFileSync(join(job.jobDir, "queue.log"), "utf8"), "", "the supervisor logged no error");
  });
});
