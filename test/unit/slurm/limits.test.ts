import assert from "node:assert/strict";
import { test } from "node:test";
import { checkLimits, gpusInGres, parseLimits } from "../../../src/backends/slurm/limits.js";
import type { JobSpec, Resources } from "../../../src/model/job.js";
import { NO_ARGS } from "../../../src/model/job-args.js";

const SINFO = [
  "debug*|n1|(null)|2|4000|infinite",
  "short|n1|(null)|2|4000|5:00",
  "debug*|n2|(null)|2|4000|infinite",
  "short|n2|(null)|2|4000|5:00",
  "gpu|g1|gpu:a100:4(S:0-1)|64|512000|2-00:00:00",
  "gpu|g2|gpu:2,shard:8|32|256000|2-00:00:00",
];

function spec(resources: Partial<Resources>): JobSpec {
  return { entry: "m.py:f", args: NO_ARGS, scriptArgs: [], env: {}, ray: false, resources: { nodes: 1, cpus: 1, mem: 1, gpus: 0, time: 60, partition: null, ...resources } };
}

test("gres strings count GPUs of any type, and nothing else", () => {
  assert.equal(gpusInGres("(null)"), 0);
  assert.equal(gpusInGres("gpu:2"), 2);
  assert.equal(gpusInGres("gpu:a100:4(S:0-1)"), 4);
  assert.equal(gpusInGres("gpu:1,shard:4"), 1);
  assert.equal(gpusInGres("shard:4"), 0);
});

test("sinfo lines are gathered per partition, the default one marked", () => {
  const parts = parseLimits(SINFO);
  assert.deepEqual(parts.map((p) => [p.name, p.isDefault, p.nodes, p.maxTime, p.maxCpusPerNode, p.maxMemPerNode, p.maxGpusPerNode]), [
    ["debug", true, 2, null, 2, 4000, 0],
    ["short", false, 2, 300, 2, 4000, 0],
    ["gpu", false, 2, 172800, 64, 512000, 4],
  ]);
});

test("requests a partition can run pass; the default partition is used when none is named", () => {
  const parts = parseLimits(SINFO);
  checkLimits(spec({ nodes: 2, cpus: 2, time: 600 }), parts);
  checkLimits(spec({ partition: "short", time: 5 }), parts);
  checkLimits(spec({ partition: "gpu", gpus: 4, mem: 500 }), parts);
  checkLimits(spec({ nodes: 9 }), []);
});

test("each impossible request is refused naming the limit", () => {
  const parts = parseLimits(SINFO);
  const refused = (resources: Partial<Resources>, message: RegExp) => assert.throws(() => checkLimits(spec(resources), parts), (e: Error) => e.name === "InputError" && message.test(e.message));
  refused({ partition: "short", time: 10 }, /^--time 10: partition "short" allows at most 5 minutes/);
  refused({ nodes: 5 }, /^--nodes 5: partition "debug" has 2 nodes/);
  refused({ gpus: 1 }, /^--gpus 1: partition "debug": no node of it has a GPU/);
  refused({ partition: "gpu", gpus: 5 }, /its nodes have at most 4 GPUs each/);
  refused({ cpus: 3 }, /^--cpus 3: the nodes of partition "debug" have at most 2 CPUs each/);
  refused({ mem: 4 }, /^--mem 4: the nodes of partition "debug" have at most 3.9 GB each \(4000 MB\)/);
  refused({ partition: "nope" }, /^--partition nope: the cluster has no such partition; it has debug, short, gpu/);
});
