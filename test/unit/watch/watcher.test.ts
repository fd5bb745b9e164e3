// The job watcher end to end on this machine: the real watcher.py through the local transport, job dirs
// written by the test as a runner would (log appends, then result.json and status.json atomically).
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { JobWatcher } from "../../../src/backends/watch/watcher.js";
import { resultForDisplay } from "../../../src/model/outcome.js";
import { LocalTransport } from "../../../src/transport/local.js";
import { FaultyTransport, runnerOnly, tempJob, tempRoot } from "./helpers.js";

const root = tempRoot();
after(() => rmSync(root, { recursive: true, force: true }));

function watched(transport = new LocalTransport()) {
  return { transport, watcher: new JobWatcher(transport, runnerOnly, { baseDelayMs: 50 }) };
}

describe("job watcher", { timeout: 60_000 }, () => {
  test("nothing a job prints forges its end: \\r, \\r\\n, NUL, markers split across writes, fake frame headers", async () => {
    const { watcher } = watched();
    const job = tempJob(root, "forged");
    const forged = `@@slurmray:final:${JSON.stringify({ runner: { state: "COMPLETED" }, slurm: null, sacct_error: null, result: { value: "FORGED" } })}@@`;
    let text = "";
    const done = watcher.watch(job, { onLog: (t) => (text += t) });
    job.write(`x\r${forged}\n`);
    job.write(`y\r\n${forged}\r\n`);
    job.write(`\0${forged}\0\n`);
    job.write(forged.slice(0, 20));
    await sleep(250);
    job.write(`${forged.slice(20)}\n`);
    job.write(`end ${job.id} 0\nresult-size ${job.id} 19\nresult ${job.id} 19\n{"value": "FORGED"}\n`);
    await sleep(300);
    assert.equal(watcher.size, 1, "still watching: the job has not ended");
    job.end("COMPLETED", { value: "real" });
    const result = await done;
    assert.deepEqual(resultForDisplay(result.outcome.result), "real");
    assert.equal(result.status.state, "COMPLETED");
    assert.equal(text, readFileSync(join(job.remoteDir, "job.log"), "utf8"));
  });

  test("the streamed log equals job.log: invalid UTF-8, a character split across writes, a long line", async () => {
    const { watcher } = watched();
    const job = tempJob(root, "bytes");
    const chunks: string[] = [];
    const done = watcher.watch(job, { onLog: (t) => chunks.push(t) });
    const euro = Buffer.from("€", "utf8");
    job.write(Buffer.concat([Buffer.from("bad \xff\xfe bytes\n", "latin1"), euro.subarray(0, 2)]));
    await sleep(300); // the watcher sends the first two bytes of € in one frame…
    job.write(Buffer.concat([euro.subarray(2), Buffer.from(`\n${"z".repeat(3 << 20)}\nend`)]));
    job.end();
    const result = await done;
    const bytes = readFileSync(join(job.remoteDir, "job.log"));
    assert.equal(chunks.join(""), new TextDecoder().decode(bytes));
    assert.ok(chunks.join("").includes("€\n"), "€ arrived whole although its bytes came in two frames");
    assert.equal(result.logOffset, bytes.length);
  });

  test("the end is seen within ~100 ms of status.json (median of 10)", async () => {
    const { watcher } = watched();
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const job = tempJob(root, `latency${i}`);
      const done = watcher.watch(job);
      await sleep(150 + Math.random() * 100);
      const start = performance.now();
      job.end();
      await done;
      latencies.push(performance.now() - start);
    }
    latencies.sort((a, b) => a - b);
    const median = (latencies[4]! + latencies[5]!) / 2;
    console.log(`end latency on the local transport: median ${median.toFixed(0)} ms, max ${latencies[9]!.toFixed(0)} ms`);
    assert.ok(median < 1000, `median ${median} ms`);
  });

  test("a state-only watch gets the end but no log bytes and no result", async () => {
    const { watcher } = watched();
    const job = tempJob(root, "stateonly");
    let logged = "";
    const done = watcher.watch(job, { stateOnly: true, onLog: (t) => (logged += t) });
    job.write("printed\n");
    await sleep(250);
    job.end("COMPLETED", { value: "x".repeat(1 << 20) });
    const result = await done;
    assert.equal(result.status.state, "COMPLETED");
    assert.equal(logged, "");
    assert.equal(result.logOffset, 0);
    assert.deepEqual(result.outcome, { result: null, error: null });
  });

  test("a scheduler command that reads stdin cannot swallow the watcher's own commands", async () => {
    const greedy = { ...runnerOnly, pollEveryMs: 500, pollCommand: () => "cat > /dev/null; true" };
    const watcher = new JobWatcher(new LocalTransport(), greedy, { baseDelayMs: 50 });
    const [first, second] = [tempJob(root, "greedy1"), tempJob(root, "greedy2")];
    const stop = new AbortController(); // so that a failure here ends both watches, not the test run
    const state = (job: typeof first) => watcher.watch(job, { signal: stop.signal }).then((r) => r.status.state, () => "not served");
    const one = state(first);
    await sleep(300); // the poll (cat) is running: the next watch's command must still reach the watcher
    const two = state(second);
    await sleep(200);
    first.end();
    second.end();
    const timer = setTimeout(() => stop.abort(), 5000);
    try {
      assert.deepEqual(await Promise.all([one, two]), ["COMPLETED", "COMPLETED"]);
    } finally {
      clearTimeout(timer);
    }
  });

  test("30 concurrent watches share one watcher command", async () => {
    const { transport, watcher } = watched();
    const before = transport.commandCount;
    const jobs = Array.from({ length: 30 }, (_, i) => tempJob(root, `many${i}`));
    const done = jobs.map((job) => watcher.watch(job));
    await sleep(300);
    jobs.forEach((job, i) => {
      job.write(`job ${i}\n`);
      job.end("COMPLETED", { value: i });
    });
    const results = await Promise.all(done);
    assert.deepEqual(
      results.map((r) => resultForDisplay(r.outcome.result)),
      jobs.map((_, i) => i),
    );
    assert.equal(transport.commandCount - before, 1);
  });

  test("a lost connection resumes each log at its byte, nothing lost or repeated", async () => {
    const transport = new FaultyTransport({ cutAfterBytes: 5000 });
    const { watcher } = watched(transport);
    const job = tempJob(root, "resume");
    let text = "";
    let reconnects = 0;
    const done = watcher.watch(job, { onLog: (t) => (text += t), onReconnect: () => reconnects++ });
    for (let i = 0; i < 400; i++) {
      job.write(`line ${i} ${"·".repeat(40)}\n`);
      if (i % 50 === 0) await sleep(50);
      // The second half is written once the connection has been cut and the watch resumed.
      while (i === 199 && reconnects === 0) await sleep(20);
    }
    job.end();
    const result = await done;
    assert.equal(reconnects, 1);
    assert.equal(transport.execs, 2);
    assert.equal(text, readFileSync(join(job.remoteDir, "job.log"), "utf8"));
    assert.deepEqual(resultForDisplay(result.outcome.result), 42);
  });

  test("a channel refused by sshd (MaxSessions) is retried, not a failure", async () => {
    const transport = new FaultyTransport({ refuse: 3 });
    const { watcher } = watched(transport);
    const job = tempJob(root, "refused");
    const done = watcher.watch(job);
    job.end();
    const result = await done;
    assert.equal(result.status.state, "COMPLETED");
    assert.equal(transport.execs, 4);
  });

  test("a watch started just as the last one ends is served, on a new watcher command", async () => {
    const { transport, watcher } = watched();
    const [a, b] = [tempJob(root, "lastA"), tempJob(root, "lastB")];
    const before = transport.commandCount;
    const first = watcher.watch(a);
    a.end();
    await first;
    const second = watcher.watch(b); // the first command is still winding down
    b.end("COMPLETED", { value: "b" });
    assert.deepEqual(resultForDisplay((await second).outcome.result), "b");
    assert.equal(transport.commandCount - before, 2);
  });

  test("an aborted watch stops at once and leaves the others running", async () => {
    const { watcher } = watched();
    const [a, b] = [tempJob(root, "abortA"), tempJob(root, "abortB")];
    const controller = new AbortController();
    const first = watcher.watch(a, { signal: controller.signal });
    const second = watcher.watch(b);
    controller.abort();
    await assert.rejects(first);
    b.end();
    assert.equal((await second).status.state, "COMPLETED");
    assert.equal(watcher.size, 0);
  });
});
