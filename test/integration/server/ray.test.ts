// Ray on the server kind: one Ray node inside the queue's grant, sized to it (num_cpus, memory), private to the
// job by its token, joined by the code's own ray.init(address="auto"). Uses the Ray venv the Slurm Ray test
// caches in the bed user's home, and the bed's root-owned queue dir.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ServerBackend } from "../../../src/backends/server/index.js";
import { resultForDisplay } from "../../../src/model/outcome.js";
import { requireTestbed } from "../../helpers/testbed.js";
import { rayPython, type SlurmBed, slurmBed } from "../slurm/harness.js";

let bed: SlurmBed | undefined;
after(async () => bed?.dispose());

test("a server job with Ray gets one node sized to its grant, token-protected, joined by ray.init(address=\"auto\")", { timeout: 1_000_000 }, async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  bed = await slurmBed(tb);
  const python = await rayPython(bed);
  const backend = new ServerBackend(bed.transport, "box", { kind: "server", host: tb.host, queue_dir: tb.queueDir, limits: { cpus: 2, mem: 2, gpus: [] } }, bed.runtimeDir);
  const job = {
    ...bed.job("sray", { entry: "funcs.py:ray_as_researchers_write_it", args: { tasks: 2 }, ray: true, env: { SLURMRAY_RAY_OBJECT_STORE_MB: "80" }, resources: { nodes: 1, cpus: 2, mem: 1.5, gpus: 0, time: 10, partition: null } }, python),
    kind: "server" as const,
  };
  job.schedulerId = await backend.submit(job);
  let log = "";
  const outcome = await backend.watch(job, { onLog: (text) => (log += text) });
  assert.equal(outcome.status.state, "COMPLETED", `${JSON.stringify(outcome)}\n${log}`);
  const value = resultForDisplay(outcome.outcome.result) as Record<string, unknown>;
  assert.equal(value["cpus"], 2, JSON.stringify(value));
  const expectedMemory = (1536 - 80) * 1024 * 1024;
  assert.ok(Math.abs(Number(value["memory"]) - expectedMemory) / expectedMemory < 0.01, `memory ${value["memory"]} vs ${expectedMemory}`);
  assert.equal(value["auth_mode"], "token");
  assert.equal((value["with_token"] as { connected: boolean }).connected, true, JSON.stringify(value));
  assert.equal((value["without_token"] as { connected: boolean }).connected, false, JSON.stringify(value));
  assert.match(log, /Ray cluster ready: 1 node/);
});
