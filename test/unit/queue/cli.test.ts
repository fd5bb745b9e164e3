// queue.py's commands run locally (as root, on a root-owned sticky queue dir): the queue dir check, the
// request check, a job's environment and limits (time, memory), contention, cancel, dead and corrupt entries.
import assert from "node:assert/strict";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { entryFiles, makeJobDir, makeQueueDir, removeCreated, requireRoot, runQueue, waitFor } from "./harness.js";

after(removeCreated);

const LIMITS = JSON.stringify({ cpus: 2, mem: 4, gpus: [0, 1] });

function submit(qdir: string, opts: string[], command: string[], jobDir = makeJobDir()) {
  const out = runQueue(qdir, ["submit", "--job-dir", jobDir, "--mem", "0.5", "--limits", LIMITS, ...opts, "--", ...command]);
  assert.equal(out.code, 0, out.stderr);
  return { id: String(out.json["id"]), jobDir };
}

type Job = Record<string, unknown>;

/** The process exists and is not a zombie (here PID 1 may leave orphans unreaped). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function poll(qdir: string, id: string): Job {
  const out = runQueue(qdir, ["poll", id]);
  assert.equal(out.code, 0, out.stderr);
  return (out.json["jobs"] as Job[])[0]!;
}

function waitState(qdir: string, id: string, states: string[], ms = 10_000): Promise<Job> {
  return waitFor(`${id} in ${states.join("/")}`, () => {
    const job = poll(qdir, id);
    return states.includes(String(job["state"])) ? job : undefined;
  }, ms);
}

describe("queue dir check", () => {
  const cases: [string, (dir: string) => void][] = [
    ["missing", () => {}],
    ["not sticky (0777)", (dir) => { mkdirSync(dir); chmodSync(dir, 0o777); }],
    ["owned by a user", (dir) => { mkdirSync(dir); chmodSync(dir, 0o1777); chownSync(dir, 1001, 1001); }],
    ["a symlink to a good dir", (dir) => symlinkSync(makeQueueDir(), dir)],
  ];
  for (const [what, make] of cases) {
    test(`a queue dir that is ${what} is refused with the admin's command (exit 2)`, (t) => {
      if (!requireRoot(t)) return;
      const dir = join(dirname(makeQueueDir()), "bad");
      make(dir);
      const out = runQueue(dir, ["list"]);
      assert.equal(out.code, 2, out.stderr);
      assert.ok(out.stderr.includes(`sudo install -d -m 1777 -o root -g root ${dir}`), out.stderr);
      assert.match(String(out.json["error"]), /queue dir/);
    });
  }
});

describe("queue commands", () => {
  test("a request over the limits is refused at once (exit 2, naming the limit) and nothing is queued", (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const out = runQueue(qdir, ["submit", "--job-dir", makeJobDir(), "--mem", "1", "--gpus", "3", "--limits", LIMITS, "--", "true"]);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /3 GPUs exceeds this server's limit of 2 \(limits\.gpus/);
    assert.deepEqual(entryFiles(qdir, "root"), []);
  });

  test("a job runs detached with its GPU ids, core mask and sizes; its entry is 0644 in 0755 dirs", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const script = 'echo "$CUDA_VISIBLE_DEVICES|$SLURMRAY_CPUS|$SLURMRAY_GPUS|$SLURMRAY_MEM_GB"; grep Cpus_allowed_list /proc/self/status; sleep 2';
    const { id, jobDir } = submit(qdir, ["--cpus", "1", "--gpus", "2"], ["sh", "-c", script]);
    // submit has returned while the job runs on: the supervisor holds none of its pipes.
    assert.ok(["PENDING", "RUNNING"].includes(String(poll(qdir, id)["state"])));
    assert.match(id, /^root\.\d+$/);
    // Its heartbeat (for servers whose /proc hides other users) is fresh while it runs, gone after.
    const beat = join(qdir, "root", `${id.split(".")[1]}.beat`);
    await waitState(qdir, id, ["RUNNING"]);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(Date.now() - statSync(beat).mtimeMs < 1000, "the heartbeat is fresh");
    const done = await waitState(qdir, id, ["COMPLETED"]);
    assert.equal(existsSync(beat), false);
    assert.deepEqual(done["gpu_ids"], [0, 1]);
    assert.deepEqual(done["cores"], [0]);
    assert.equal(done["exit_code"], 0);
    const log = readFileSync(join(jobDir, "job.log"), "utf8");
    assert.match(log, /^0,1\|1\|2\|0\.5\n/);
    assert.match(log, /Cpus_allowed_list:\s+0\n/);
    // Its ended entry has moved out of the active dir, into done/; both dirs 0755, the file 0644.
    assert.deepEqual(entryFiles(qdir, "root"), []);
    assert.equal(statSync(join(qdir, "root")).mode & 0o7777, 0o755);
    assert.equal(statSync(join(qdir, "root", "done")).mode & 0o7777, 0o755);
    assert.equal(statSync(join(qdir, "root", "done", `${id.split(".")[1]}.json`)).mode & 0o7777, 0o644);
  });

  test("a missing job dir is exit 2; a command that cannot start is FAILED with exit code 127", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const missing = runQueue(qdir, ["submit", "--job-dir", "/nonexistent/x", "--mem", "1", "--limits", LIMITS, "--", "true"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--job-dir \/nonexistent\/x is not a directory you can write to/);
    const { id } = submit(qdir, [], ["/nonexistent/program"]);
    const job = await waitState(qdir, id, ["FAILED"]);
    assert.equal(job["exit_code"], 127);
    assert.match(String(job["reason"]), /could not start \/nonexistent\/program/);
  });

  test("a failing job is FAILED with its exit code", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const { id } = submit(qdir, [], ["sh", "-c", "exit 3"]);
    const job = await waitState(qdir, id, ["FAILED"]);
    assert.equal(job["exit_code"], 3);
  });

  test("a job waits while the cpus are taken, shows its position, and starts at once when the holder is cancelled", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const first = submit(qdir, ["--cpus", "2"], ["sleep", "30"]);
    await waitState(qdir, first.id, ["RUNNING"]);
    const second = submit(qdir, ["--cpus", "1"], ["sleep", "30"]);
    await new Promise((r) => setTimeout(r, 300));
    const waiting = poll(qdir, second.id);
    assert.deepEqual([waiting["state"], waiting["position"], waiting["reason"]], ["PENDING", 1, "Resources"]);
    const listing = runQueue(qdir, ["list"]).json;
    assert.deepEqual(listing["free"], { cpus: 0, mem: 3.5, gpus: [0, 1] });
    assert.deepEqual(listing["limits"], JSON.parse(LIMITS));
    const listed = listing["jobs"] as Job[];
    assert.deepEqual(listed.map((j) => [j["id"], j["user"], j["state"], j["cpus"]]), [
      [first.id, "root", "RUNNING", 2],
      [second.id, "root", "PENDING", 1],
    ]);
    assert.ok(typeof listed[0]!["since"] === "number");
    const pid = Number(poll(qdir, first.id)["pid"]);
    const cancelled = runQueue(qdir, ["cancel", first.id]);
    assert.deepEqual(cancelled.json, { id: first.id, state: "CANCELLED", cancelled: true });
    // It starts with no further command: its supervisor saw the queue change.
    await waitState(qdir, second.id, ["RUNNING"]);
    assert.equal(isRunning(pid), false, "the cancelled job's process is gone");
    const active = runQueue(qdir, ["active"]).json as { ids: string[]; job_dirs: string[] };
    assert.deepEqual(active.ids, [second.id]);
    assert.equal(active.job_dirs.length, 1, "with its job dir (retention keeps it)");
  });

  test("backfill end to end: a short job with --time passes a waiting head it cannot delay; one without --time waits", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const running = submit(qdir, ["--cpus", "1", "--time", "0.5"], ["sleep", "30"]);
    await waitState(qdir, running.id, ["RUNNING"]);
    const head = submit(qdir, ["--cpus", "2"], ["true"]);
    const short = submit(qdir, ["--cpus", "1", "--time", "0.05"], ["true"]);
    const untimed = submit(qdir, ["--cpus", "1"], ["true"]);
    await waitState(qdir, short.id, ["COMPLETED"]);
    const [h, u] = [poll(qdir, head.id), poll(qdir, untimed.id)];
    assert.deepEqual([h["state"], h["position"], h["reason"]], ["PENDING", 1, "Resources"]);
    assert.deepEqual([u["state"], u["position"], u["reason"]], ["PENDING", 2, "Priority"]);
    runQueue(qdir, ["cancel", running.id]);
    await waitState(qdir, untimed.id, ["COMPLETED"]);
    assert.ok(Number(poll(qdir, head.id)["started"]) <= Number(poll(qdir, untimed.id)["started"]));
  });

  test("a job over its time limit is TIMEOUT", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const { id } = submit(qdir, ["--time", "0.02"], ["sleep", "30"]);
    const job = await waitState(qdir, id, ["TIMEOUT"]);
    assert.ok(Number(job["ended"]) - Number(job["started"]) < 4);
  });

  test("a job whose processes' RSS goes over --mem is OUT_OF_MEMORY (a child process counts too)", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const grow = "import time\nb = b\"x\" * (200 * 1024 * 1024)\ntime.sleep(30)";
    const { id } = submit(qdir, ["--mem", "0.1"], ["sh", "-c", `python3 -c '${grow}'; sleep 30`]);
    const job = await waitState(qdir, id, ["OUT_OF_MEMORY"]);
    assert.match(String(job["reason"]), /over its 0\.1 GB/);
  });

  test("shared memory counts once: two processes sharing 150 MB stay within --mem 0.25", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const share = [
      "import mmap, os, time",
      "size = 150 * 1024 * 1024",
      "m = mmap.mmap(-1, size)",
      "for i in range(0, size, 4096): m[i] = 1",
      "pid = os.fork()",
      "total = sum(m[i] for i in range(0, size, 4096))",
      "time.sleep(2)",
      "os._exit(0) if pid == 0 else os.waitpid(pid, 0)",
    ].join("\n");
    const { id } = submit(qdir, ["--mem", "0.25"], ["python3", "-c", share]);
    const job = await waitState(qdir, id, ["COMPLETED", "OUT_OF_MEMORY", "FAILED"]);
    assert.equal(job["state"], "COMPLETED", String(job["reason"]));
  });

  test("a dead entry (its pid reused by another process) holds nothing and its owner marks it FAILED", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    mkdirSync(join(qdir, "root"), { mode: 0o755 });
    // pid 1 is alive but did not start at this time: a reused pid.
    const entry = {
      id: "root.5", user: "root", state: "RUNNING", reason: "", cpus: 2, mem: 4, gpus: 2, time: null,
      limits: JSON.parse(LIMITS), job_dir: "/", command: ["x"], submitted: 1, cores: [0, 1], gpu_ids: [0, 1],
      pid: 1, start: 123, started: 1, ended: null, exit_code: null, supervisor: { pid: 1, start: 123 },
    };
    writeFileSync(join(qdir, "root", "5.json"), JSON.stringify(entry));
    const { id } = submit(qdir, ["--cpus", "2", "--gpus", "2"], ["true"]);
    await waitState(qdir, id, ["COMPLETED"]);
    const dead = poll(qdir, "root.5");
    assert.equal(dead["state"], "FAILED");
    assert.match(String(dead["reason"]), /lost/);
  });

  test("ended entries older than 7 days are removed by their owner's next submit", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const { id } = submit(qdir, [], ["true"]);
    await waitState(qdir, id, ["COMPLETED"]);
    const file = join(qdir, "root", "done", `${id.split(".")[1]}.json`);
    const eightDaysAgo = Date.now() / 1000 - 8 * 86400;
    utimesSync(file, eightDaysAgo, eightDaysAgo);
    submit(qdir, [], ["true"]);
    assert.equal(existsSync(file), false);
    assert.equal(poll(qdir, id)["state"], "UNKNOWN");
  });

  test("a corrupt entry is skipped with a warning to its owner, set aside, and the queue goes on", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    mkdirSync(join(qdir, "root"), { mode: 0o755 });
    writeFileSync(join(qdir, "root", "7.json"), "{not json");
    const out = runQueue(qdir, ["active"]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /warning: skipped your corrupt queue entry .*7\.json/);
    assert.ok(readdirSync(join(qdir, "root")).some((f) => f.startsWith("7.json.corrupt-")));
    const { id } = submit(qdir, [], ["true"]);
    await waitState(qdir, id, ["COMPLETED"]);
  });

  test("a waiting job whose entry was corrupted gets it back from its supervisor", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const holder = submit(qdir, ["--cpus", "2"], ["sleep", "1"]);
    const { id } = submit(qdir, [], ["true"]);
    writeFileSync(join(qdir, "root", `${id.split(".")[1]}.json`), "garbage");
    await waitState(qdir, holder.id, ["COMPLETED"]);
    await waitState(qdir, id, ["COMPLETED"]);
  });

  test("a running job whose entry was corrupted gets it back from its supervisor, so its resources count again", async (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    const { id } = submit(qdir, ["--cpus", "2"], ["sleep", "30"]);
    const before = await waitState(qdir, id, ["RUNNING"]);
    writeFileSync(join(qdir, "root", `${id.split(".")[1]}.json`), "garbage");
    const after = await waitState(qdir, id, ["RUNNING"], 2000);
    assert.equal(after["pid"], before["pid"]);
    assert.deepEqual(after["cores"], [0, 1]);
    const other = submit(qdir, [], ["true"]);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(poll(qdir, other.id)["state"], "PENDING", "the job's cpus are held again");
    runQueue(qdir, ["cancel", id]);
    await waitState(qdir, other.id, ["COMPLETED"]);
  });

  test("unknown ids poll as UNKNOWN; malformed ids and bad flags are exit 2 with JSON", (t) => {
    if (!requireRoot(t)) return;
    const qdir = makeQueueDir();
    assert.equal(poll(qdir, "root.42")["state"], "UNKNOWN");
    assert.equal(runQueue(qdir, ["poll", "../x"]).code, 2);
    assert.equal(runQueue(qdir, ["cancel", "root.42"]).code, 1);
    const bad = runQueue(qdir, ["submit", "--cpus", "x"]);
    assert.equal(bad.code, 2);
    assert.match(String(bad.json["error"]), /argument --cpus: invalid int value: 'x'/);
  });
});
