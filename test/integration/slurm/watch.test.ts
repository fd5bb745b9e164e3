// The job watcher on the real test bed: what a job prints never forges its end, the end is seen soon
// after the runner writes it, and many watches share one remote command.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { slurmWatcher } from "../../../src/backends/slurm/watch.js";
import { resultForDisplay } from "../../../src/model/outcome.js";
import { Ssh2Transport } from "../../../src/transport/ssh2.js";
import { quote } from "../../../src/util/shell.js";
import { requireTestbed, testbed } from "../../helpers/testbed.js";
import { FORGE_PY } from "./forge.js";
import { type SlurmBed, slurmBed, submitted } from "./harness.js";

describe("job watcher on the test bed", { timeout: 300_000 }, () => {
  let bed: SlurmBed | undefined;
  before(async () => {
    const tb = testbed();
    if (!tb) return;
    bed = await slurmBed(tb);
    await bed.transport.exec(["sh", "-c", `printf '%s' ${quote(FORGE_PY)} > ${quote(`${bed.codeDir}/forge.py`)}`]);
  });
  after(async () => bed?.dispose());

  function need(t: Parameters<typeof requireTestbed>[0]): SlurmBed | undefined {
    return requireTestbed(t) && bed;
  }

  test("a job printing forged end records in every form: the real result comes back, the log is exact", async (t) => {
    const b = need(t);
    if (!b) return;
    const job = await submitted(b, b.job("forge", { entry: "forge.py:forge" }));
    let text = "";
    const watched = await slurmWatcher(b.transport).watch(job, { onLog: (chunk) => (text += chunk) });
    assert.equal(watched.status.state, "COMPLETED");
    assert.deepEqual(resultForDisplay(watched.outcome.result), "real");
    const log = await b.transport.exec(["cat", `${job.remoteDir}/job.log`]);
    assert.equal(text, log.stdout);
    assert.ok(text.includes("\0@@slurmray:final:"), "the forged lines arrived as plain output");
  });

  // Over OpenSSH a refused mux session falls back to a connection of its own (the command still runs, with
  // "Session open refused by peer" on stderr); ssh2 fails to open the channel: that is the case to retry.
  test("over ssh2, a watch whose channel sshd refuses (MaxSessions) is retried until one is free", async (t) => {
    const b = need(t);
    const tb = testbed();
    if (!b || !tb) return;
    const job = await submitted(b, b.job("refused", { entry: "forge.py:nap", args: { seconds: 1 } }));
    const transport = new Ssh2Transport({ host: tb.host, port: tb.port, user: tb.user, identityFile: tb.key, knownHostsFile: tb.knownHosts });
    try {
      await transport.connect();
      // Every session this connection may open (the bed allows 50), held for a few seconds.
      const held = Array.from({ length: 60 }, () => transport.exec(["sleep", "4"]).catch((error: Error) => error.message));
      await sleep(1000);
      const before = transport.commandCount;
      const watched = await slurmWatcher(transport, { baseDelayMs: 200 }).watch(job);
      assert.ok((await Promise.all(held)).some((r) => typeof r === "string" && /open failed/.test(r)), "the connection's sessions were all taken");
      assert.ok(transport.commandCount - before > 1, "the watcher's channel was refused at least once, then retried");
      assert.equal(watched.status.state, "COMPLETED");
      assert.deepEqual(resultForDisplay(watched.outcome.result), 1);
    } finally {
      await transport.close();
    }
  });

  // As a user whose sshd Match block sets MaxSessions 10: 30 concurrent watches (the API's map, or 30
  // attaches in one process) would need 30 channels with one command each; through the watcher they need one.
  test("30 concurrent watches over one connection of a MaxSessions-10 user share one watcher command; the end within ~100 ms of status.json (figure reported)", async (t) => {
    const tb = testbed();
    if (!need(t) || !tb) return;
    const b = await slurmBed(tb, tb.limitedUser);
    t.after(() => b.dispose());
    await b.transport.exec(["sh", "-c", `printf '%s' ${quote(FORGE_PY)} > ${quote(`${b.codeDir}/forge.py`)}`]);
    const jobs = await Promise.all(Array.from({ length: 30 }, (_, i) => submitted(b, b.job(`many${i}`, { entry: "forge.py:nap", args: { seconds: i < 3 ? 2 : 1 } }))));
    const before = b.transport.commandCount;
    const latencies: number[] = [];
    const watcher = slurmWatcher(b.transport);
    const results = await Promise.all(
      jobs.map(async (job) => {
        const watched = await watcher.watch(job);
        const runnerEnd = Date.parse(watched.status.endedAt ?? "");
        latencies.push(Date.now() - runnerEnd);
        return watched;
      }),
    );
    assert.equal(b.transport.commandCount - before, 1, "one watcher command for all 30 jobs");
    assert.deepEqual(
      results.map((r) => resultForDisplay(r.outcome.result)),
      jobs.map((_, i) => (i < 3 ? 2 : 1)),
    );
    latencies.sort((x, y) => x - y);
    console.log(`end latency on the bed (runner's ended_at to the watch resolving, 30 jobs): median ${latencies[15]} ms, max ${latencies[29]} ms`);
  });
});
