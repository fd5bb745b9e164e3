import assert from "node:assert/strict";
import { test } from "node:test";
import { validateSlurmParams } from "../../../src/backends/slurm/params.js";
import { InputError } from "../../../src/util/errors.js";

test("fills missing parameters from the given defaults, then the built-in ones", () => {
  const params = validateSlurmParams({ nodes: 2, partition: "gpu" }, { cpus: 4, time: 120 });
  assert.deepEqual(params, { nodes: 2, cpus: 4, mem: 1, gpus: 0, time: 120, partition: "gpu", account: null, qos: null, constraint: null });
});

test("an unknown parameter is refused with every valid one and its default", () => {
  assert.throws(
    () => validateSlurmParams({ nodes: 1, gpu: 1 }, { mem: 8 }),
    (e: unknown) => {
      assert.ok(e instanceof InputError && e.exitCode === 2);
      assert.match(e.message, /unknown Slurm parameter "gpu"/);
      assert.match(e.message, /- gpus \(default: 0\)/);
      assert.match(e.message, /- mem \(default: 8 GB\)/);
      assert.match(e.message, /- partition \(default: cluster default\)/);
      return true;
    },
  );
});

test("bad values name the key and what is allowed", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ nodes: 0 }, /"nodes" is 0; it must be a whole number from 1 to 1024/],
    [{ nodes: 1.5 }, /"nodes"/],
    [{ mem: "lots" }, /"mem" is "lots"; it must be a number of GB/],
    [{ mem: 0 }, /"mem"/],
    [{ time: 0 }, /"time" is 0; it must be a whole number from 1/],
    [{ gpus: -1 }, /"gpus"/],
    [{ partition: "cpu;rm -rf ~" }, /"partition" is "cpu;rm -rf ~"; it must be a partition name/],
    [{ partition: "a b" }, /"partition"/],
    [{ account: "$(id)" }, /"account"/],
    [{ constraint: "gpu`x`" }, /"constraint"/],
  ];
  for (const [params, message] of cases) assert.throws(() => validateSlurmParams(params), message);
});

test("valid edge values are accepted", () => {
  const params = validateSlurmParams({ partition: "debug,short", constraint: "[rack1*2&rack2*4]|gpu", mem: 0.5, gpus: 0, account: null });
  assert.equal(params.partition, "debug,short");
  assert.equal(params.constraint, "[rack1*2&rack2*4]|gpu");
  assert.equal(params.mem, 0.5);
});
