// A resource flag a target's kind does not apply is named in a warning (the local target's --mem, a server's
// --partition); one it applies, or none given, gives none.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ResolvedTarget } from "../../../src/config/target.js";
import { unappliedResources } from "../../../src/jobs/session.js";

const local = { name: "local", config: { kind: "local" } } as ResolvedTarget;
const server = { name: "gpubox", config: { kind: "server", host: "h", limits: { cpus: 8, mem: 32, gpus: [0] } } } as ResolvedTarget;
const slurm = { name: "cluster", config: { kind: "slurm", host: "h" } } as ResolvedTarget;

test("each kind names the flags it does not apply, and why", () => {
  assert.equal(unappliedResources(local, { mem: 8, time: 5 }), "--mem, --time: not applied on target local (it runs jobs on this machine without limits)");
  assert.equal(unappliedResources(server, { cpus: 4, partition: "gpu" }), "--partition: not applied on target gpubox (a shared server has no partitions)");
  assert.equal(unappliedResources(server, { cpus: 4, mem: 8, gpus: 1, time: 5 }), null);
  assert.equal(unappliedResources(slurm, { cpus: 4, mem: 8, gpus: 1, time: 5, partition: "gpu", nodes: 2 }), null);
  assert.equal(unappliedResources(local, {}), null);
  assert.equal(unappliedResources(local, { mem: undefined }), null);
});
