// Ray across three Slurm nodes: the one test that installs real Ray from the package index, once, into a
// cached venv in the bed user's home (reused by later runs).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { slurmWatcher } from "../../../src/backends/slurm/watch.js";
import { resultForDisplay } from "../../../src/model/outcome.js";
import { requireTestbed } from "../../helpers/testbed.js";
import { rayPython, type SlurmBed, slurmBed, submitted } from "./harness.js";

let bed: SlurmBed | undefined;
after(async () => bed?.dispose());

test("a 3-node job: ray.init(address=\"auto\") joins it, tasks and Ray's Pool reach n1..n3, resources match the allocation, the token keeps others out, nothing is left", { timeout: 1_000_000 }, async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  bed = await slurmBed(tb);
  const python = await rayPython(bed);
  const spec = {
    entry: "funcs.py:ray_as_researchers_write_it",
    args: { tasks: 3 },
    ray: true,
    pool: "ray" as const,
    env: { SLURMRAY_RAY_OBJECT_STORE_MB: "80" },
    resources: { nodes: 3, cpus: 1, mem: 1, gpus: 0, time: 10, partition: null },
  };
  const job = await submitted(bed, bed.job("ray", spec, python));
  let log = "";
  const outcome = await slurmWatcher(bed.transport).watch(job, { onLog: (text) => (log += text) });
  assert.equal(outcome.status.state, "COMPLETED", `${JSON.stringify(outcome)}\n${log}`);
  const value = resultForDisplay(outcome.outcome.result) as Record<string, unknown>;
  assert.deepEqual(value["nodes"], ["n1", "n2", "n3"], JSON.stringify(value));
  assert.deepEqual(value["pool_nodes"], ["n1", "n2", "n3"], JSON.stringify(value));
  // The allocation: 3 nodes × 1 CPU, and 1 GB per node less the 80 MB object store.
  assert.equal(value["cpus"], 3);
  const expectedMemory = 3 * (1024 - 80) * 1024 * 1024;
  assert.ok(Math.abs(Number(value["memory"]) - expectedMemory) / expectedMemory < 0.01, `memory ${value["memory"]} vs ${expectedMemory}`);
  assert.equal(value["auth_mode"], "token");
  assert.equal(value["token_mode"], "0o600");
  assert.deepEqual((value["with_token"] as { connected: boolean }).connected, true, JSON.stringify(value["with_token"]));
  assert.equal((value["without_token"] as { connected: boolean }).connected, false, JSON.stringify(value["without_token"]));
  assert.equal((value["wrong_token"] as { connected: boolean }).connected, false, JSON.stringify(value["wrong_token"]));
  assert.match(log, /Ray cluster ready: 3 nodes/);

  // Nothing of this job's Ray is left: no process of the job, no per-node temp dir.
  const left = await bed.transport.script(
    `for i in $(seq 1 30); do squeue -h -j ${job.schedulerId} -t R,CG -o %i | grep -q . || break; sleep 1; done
squeue -h -j ${job.schedulerId} -t R,CG -o %T
ps -eo args | grep -F "${job.remoteDir}" | grep -v grep
ls -d /tmp/sr${job.schedulerId}-* 2>/dev/null
true`,
  );
  assert.equal(left.stdout.trim(), "", `left behind:\n${left.stdout}`);
});
