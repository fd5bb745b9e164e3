// The server kind through the CLI, on the bed's sshd with its two users and the root-owned queue dir that
// `test-cluster.sh up` creates as an admin would: runs, limits, GPU ids, pending with what runs now, detach
// and attach, cancel (and Ctrl-C), another user's job, the whole queue.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { RUNTIME_FILES } from "../../../src/backends/runtime.js";
import { ServerBackend } from "../../../src/backends/server/index.js";
import { loadConfig } from "../../../src/config/load.js";
import { envsInUse } from "../../../src/jobs/env-use.js";
import { closeSessions, openTarget } from "../../../src/jobs/session.js";
import type { JobRecord } from "../../../src/model/job.js";
import { runtimeHash } from "../../../src/remote/index.js";
import { OpenSshTransport } from "../../../src/transport/openssh.js";
import { runCli, startCli, tempProject } from "../../helpers/cli.js";
import { keyOf, removeRemote, runOnBed, scratchBaseDir, type TestBed, testbed } from "../../helpers/testbed.js";
import { serverToml } from "../../helpers/testbed-project.js";

const FILES = {
  "work.py": `
import os, time

def env(x=1):
    return {"x": x, "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"), "cores": sorted(os.sched_getaffinity(0)),
            "cpus": os.environ.get("SLURMRAY_CPUS")}

def hog(gb):
    block = bytearray(int(gb * (1 << 30)))
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(30)
    return len(block)

def span(i):
    start = time.time()
    if i == 3:
        raise ValueError("element 3 fails on purpose")
    time.sleep(1.5)
    return [i, start, time.time()]

def write_outputs(n=3):
    os.makedirs("outputs", exist_ok=True)
    for i in range(n):
        with open("outputs/part-%d.txt" % i, "w") as f:
            f.write("part %d" % i)
    return n

def hold(seconds=5):
    print("holding", flush=True)
    time.sleep(seconds)
    return "held"
`,
};

function project(tb: TestBed, user: string, baseDir: string): string {
  const cwd = tempProject({ ...FILES, "slurmray.toml": serverToml(tb, { user, baseDir, gpus: [0, 1] }) });
  execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
  return cwd;
}

async function json(cwd: string, args: string[]) {
  const r = await runCli([...args, "--json"], { cwd, timeoutMs: 120_000 });
  return { ...r, report: r.stdout.trim() ? JSON.parse(r.stdout) : null };
}

describe("the server kind on the bed", () => {
  let tb: TestBed | null = null;
  let base1 = "";
  let base2 = "";
  before(() => {
    tb = testbed();
    if (!tb && process.env["CI"] === "true") throw new Error("test bed not running: bash scripts/test-cluster.sh up");
    if (tb) [base1, base2] = [scratchBaseDir(tb, tb.user), scratchBaseDir(tb, tb.user2)];
  });
  after(() => {
    if (!tb) return;
    removeRemote(tb, [base1], tb.user);
    removeRemote(tb, [base2], tb.user2);
  });
  const bed = (t: { skip(msg: string): void }) => {
    if (!tb) t.skip("test bed not running: bash scripts/test-cluster.sh up");
    return tb;
  };

  it("runs a function under its grant: exclusive cores and GPU ids; a warm run costs at most 3 remote commands", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b, b.user, base1);
    const first = await json(cwd, ["run", "work.py:env", "--args", '{"x": 2}', "--gpus", "1", "--cpus", "1"]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.report.result, { x: 2, cuda: "0", cores: [0], cpus: "1" });
    const warm = await json(cwd, ["run", "work.py:env", "--gpus", "2", "--cpus", "2"]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(warm.report.result, { x: 1, cuda: "0,1", cores: [0, 1], cpus: "2" });
    assert.ok(warm.report.remote_commands <= 3, `remote commands: ${warm.report.remote_commands}`);
  });

  it("what a job writes under outputs/ comes back at the end of run, as on Slurm", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b, b.user, base1);
    const run = await json(cwd, ["run", "work.py:write_outputs"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.report.outputs.files, 3);
    for (let i = 0; i < 3; i++) assert.equal(readFileSync(join(run.report.outputs.dir, `part-${i}.txt`), "utf8"), `part ${i}`);
  });

  it("clean of another target sharing the host and base_dir keeps this target's running job", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b, b.user, base1);
    // A Slurm target on the same login host and base_dir: its job dirs are the same remote folder.
    const cluster = `\n[targets.cluster]\nkind = "slurm"\nhost = "${b.host}"\nport = ${b.port}\nuser = "${b.user}"\nidentity_file = "${keyOf(b, b.user)}"\nknown_hosts = "${b.knownHosts}"\npartition = "debug"\nbase_dir = "${base1}"\n`;
    writeFileSync(join(cwd, "slurmray.toml"), readFileSync(join(cwd, "slurmray.toml"), "utf8") + cluster);
    const detached = await runCli(["run", "work.py:hold", "--args", '{"seconds": 4}', "--detach"], { cwd, timeoutMs: 120_000 });
    assert.equal(detached.code, 0, detached.stderr);
    const id = detached.stdout.trim();
    const cleaned = await runCli(["clean", "--target", "cluster", "--older-than", "0"], { cwd, timeoutMs: 120_000 });
    assert.equal(cleaned.code, 0, cleaned.stderr);
    const attached = await runCli(["attach", id], { cwd, timeoutMs: 120_000 });
    assert.equal(attached.code, 0, attached.stderr);
    assert.equal(JSON.parse(attached.stdout), "held");
  });

  it("a project shared by name: another clone, with no record of a running job, learns its env from the target", async (t) => {
    const b = bed(t);
    if (!b) return;
    const shared = (cwd: string): string => {
      const toml = readFileSync(join(cwd, "slurmray.toml"), "utf8").replace("[project]\n", `[project]\nname = "srshared-${process.pid}"\n`);
      writeFileSync(join(cwd, "slurmray.toml"), toml);
      return cwd;
    };
    const cwd = shared(project(b, b.user, base1));
    const other = shared(project(b, b.user, base1));
    const detached = await runCli(["run", "work.py:hold", "--args", '{"seconds": 60}', "--detach"], { cwd, timeoutMs: 120_000 });
    assert.equal(detached.code, 0, detached.stderr);
    const id = detached.stdout.trim();
    t.after(() => runCli(["cancel", id], { cwd, timeoutMs: 60_000 }));
    const record = JSON.parse(readFileSync(join(cwd, ".slurmray", "jobs", `${id}.json`), "utf8")) as { python: string };
    const session = await openTarget(loadConfig(other));
    try {
      const inUse = await envsInUse(session, null);
      assert.deepEqual(inUse, { dirs: [record.python.replace(/\/bin\/python$/, "")], claimed: false, shared: true });
    } finally {
      await closeSessions();
    }
  });

  it("with the runtime gone (a new version's hash, a purge), status, jobs, clean and cancel upload it again, and attach still follows its job to the end; never into a dir that is not the user's alone", async (t) => {
    const b = bed(t);
    if (!b) return;
    const base = scratchBaseDir(b, b.user);
    t.after(() => removeRemote(b, [base], b.user));
    const cwd = tempProject({ ...FILES, "slurmray.toml": serverToml(b, { baseDir: base, gpus: [0] }) });
    execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
    const detached = await runCli(["run", "work.py:hold", "--args", '{"seconds": 60}', "--detach"], { cwd, timeoutMs: 120_000 });
    assert.equal(detached.code, 0, detached.stderr);
    const id = detached.stdout.trim();
    const runtime = `${base}/runtime`;
    // Gone, and a symlink to an empty dir where it was (another user's, say): the upload refuses it, and so the
    // command fails, naming it, and writes nothing there.
    runOnBed(b, `rm -rf '${runtime}' && mkdir '${base}/elsewhere' && ln -s '${base}/elsewhere' '${runtime}'`);
    const refused = await runCli(["status", id], { cwd, timeoutMs: 60_000 });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /will not use what another user could change[\s\S]*\/runtime is a symlink/);
    assert.equal(runOnBed(b, `ls -A '${base}/elsewhere'`), "", "nothing was written there");
    runOnBed(b, `rm -f '${runtime}' && rm -rf '${base}/elsewhere'`);
    for (const args of [["status", id, "--json"], ["jobs", "--target", "box", "--json"], ["clean", "--json"]]) {
      const r = await runCli(args, { cwd, timeoutMs: 60_000 });
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      if (args[0] === "status") assert.equal(JSON.parse(r.stdout).state, "RUNNING");
      runOnBed(b, `rm -rf '${runtime}'`);
    }
    const cancelled = await runCli(["cancel", id], { cwd, timeoutMs: 60_000 });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(JSON.parse((await runCli(["status", id, "--json"], { cwd })).stdout).state, "CANCELLED");
    // Gone while attach watches a job (its polls run in the remote watcher): it still follows it to its end.
    const short = await runCli(["run", "work.py:hold", "--args", '{"seconds": 4}', "--detach"], { cwd, timeoutMs: 120_000 });
    assert.equal(short.code, 0, short.stderr);
    const attach = startCli(["attach", short.stdout.trim()], { cwd, timeoutMs: 120_000 });
    let seen = "";
    attach.child.stderr!.on("data", (d: Buffer) => (seen += d.toString()));
    for (let i = 0; i < 300 && !seen.includes("holding"); i++) await sleep(100);
    runOnBed(b, `rm -rf '${runtime}'`);
    const attached = await attach.done;
    assert.equal(attached.code, 0, attached.stderr);
    assert.equal(JSON.parse(attached.stdout), "held");
  });

  it("a job over its --mem is stopped by the watchdog and ends OUT_OF_MEMORY", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b, b.user, base1);
    const run = await json(cwd, ["run", "work.py:hog", "--args", '{"gb": 1.3}', "--mem", "1"]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.report.state, "OUT_OF_MEMORY", run.stderr);
    assert.match(run.stderr, /over its 1 GB \(--mem\)/);
  });

  it("map: an array is N queued jobs of one group, at most --max-parallel at once; one failed element, results in order", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b, b.user, base1);
    writeFileSync(join(cwd, "list.jsonl"), Array.from({ length: 6 }, (_, i) => JSON.stringify({ i })).join("\n"));
    const run = await json(cwd, ["map", "work.py:span", "--args-file", "list.jsonl", "--max-parallel", "2"]);
    assert.equal(run.code, 1, run.stderr);
    const elements = run.report.elements as { index: number; state: string; result: [number, number, number] | null; error: { message: string } | null }[];
    assert.deepEqual(elements.map((e) => [e.index, e.state]), [0, 1, 2, 3, 4, 5].map((i) => [i, i === 3 ? "FAILED" : "COMPLETED"]));
    assert.match(elements[3]!.error!.message, /element 3 fails on purpose/);
    const spans = elements.filter((e) => e.result).map((e) => e.result!);
    assert.deepEqual(spans.map((s) => s[0]), [0, 1, 2, 4, 5]);
    // At no instant do more than 2 elements run.
    const most = Math.max(...spans.map(([, start]) => spans.filter(([, s, e]) => s <= start + 0.05 && start < e - 0.05).length));
    assert.ok(most <= 2, `at most 2 at once, saw ${most}`);
    assert.ok(most === 2, "the cap was used (2 ran together)");
  });

  it("refuses a request over the limits with exit 2, naming the limit, before anything is sent", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b, b.user, base1);
    for (const [flags, message] of [
      [["--cpus", "3"], /--cpus 3: target "box" shares at most 2 CPUs/],
      [["--gpus", "3"], /--gpus 3: target "box" shares at most 2 GPUs \(ids 0, 1\)/],
      [["--mem", "4"], /--mem 4: target "box" shares at most 2 GB/],
    ] as const) {
      const run = await runCli(["run", "work.py:env", ...flags], { cwd });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
    }
  });

  it("a waiting job shows its position and what runs now; detach, attach, and the whole queue in jobs --target", async (t) => {
    const b = bed(t);
    if (!b) return;
    const mine = project(b, b.user, base1);
    const theirs = project(b, b.user2, base2);
    const holder = await runCli(["run", "work.py:hold", "--args", '{"seconds": 6}', "--cpus", "2", "--detach"], { cwd: theirs, timeoutMs: 120_000 });
    assert.equal(holder.code, 0, holder.stderr);
    const waiting = await json(mine, ["run", "work.py:env", "--cpus", "1"]);
    assert.equal(waiting.code, 0, waiting.stderr);
    assert.match(waiting.stderr, /PENDING \(Resources, position 1; running now: srtest2: 2 CPUs, 1 GB/);
    assert.ok(waiting.report.timings.queue_wait > 1, JSON.stringify(waiting.report.timings));

    const detached = await runCli(["run", "work.py:hold", "--args", '{"seconds": 3}', "--detach"], { cwd: mine, timeoutMs: 120_000 });
    const id = detached.stdout.trim();
    const queue = await json(mine, ["jobs", "--target", "box"]);
    assert.equal(queue.code, 0, queue.stderr);
    const listed = (queue.report.queue as { user: string; jobId: string }[]).map((j) => j.user);
    assert.ok(listed.includes("srtest"), JSON.stringify(queue.report));
    const attached = await runCli(["attach", id], { cwd: mine, timeoutMs: 120_000 });
    assert.equal(attached.code, 0, attached.stderr);
    assert.equal(attached.stdout.trim(), '"held"');
    const other = await runCli(["attach", holder.stdout.trim()], { cwd: theirs, timeoutMs: 120_000 });
    assert.equal(other.stdout.trim(), '"held"');
  });

  it("cancel and Ctrl-C stop the job's process group and free its grant; another user's job cannot be cancelled", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b, b.user, base1);
    const started = startCli(["run", "work.py:hold", "--args", '{"seconds": 120}', "--cpus", "2"], { cwd, timeoutMs: 120_000 });
    let seen = "";
    started.child.stderr!.on("data", (d: Buffer) => (seen += d.toString()));
    for (let i = 0; i < 300 && !seen.includes("holding"); i++) await sleep(100);
    started.child.kill("SIGINT");
    const ended = await started.done;
    assert.equal(ended.code, 130, ended.stderr);
    // The grant is free at once: a 2-CPU job starts without waiting.
    const next = await json(cwd, ["run", "work.py:env", "--cpus", "2"]);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.report.timings.queue_wait < 3, true, JSON.stringify(next.report.timings));

    // srtest2 cannot cancel srtest's job, and is told so by the queue at once.
    const detached = await runCli(["run", "work.py:hold", "--args", '{"seconds": 30}', "--detach"], { cwd, timeoutMs: 120_000 });
    const record = JSON.parse(execFileSync("cat", [join(cwd, ".slurmray", "jobs", `${detached.stdout.trim()}.json`)], { encoding: "utf8" })) as JobRecord;
    const shipped = await runCli(["run", "work.py:env"], { cwd: project(b, b.user2, base2), timeoutMs: 120_000 });
    assert.equal(shipped.code, 0, shipped.stderr);
    const transport = new OpenSshTransport({ host: b.host, port: b.port, user: b.user2, identityFile: keyOf(b, b.user2), knownHostsFile: b.knownHosts });
    try {
      const config = { kind: "server" as const, host: b.host, queue_dir: b.queueDir, limits: { cpus: 2, mem: 2, gpus: [0, 1] } };
      const theirs = new ServerBackend(transport, "box", config, `${base2}/runtime/${runtimeHash(RUNTIME_FILES)}`);
      await assert.rejects(theirs.cancel(record), /belongs to user srtest; you can cancel only your own jobs/);
    } finally {
      await transport.close();
    }
    const cancelled = await runCli(["cancel", record.id], { cwd, timeoutMs: 60_000 });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const status = await json(cwd, ["status", record.id]);
    assert.equal(status.report.state, "CANCELLED");
  });
});
