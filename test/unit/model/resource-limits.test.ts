// Every way of giving a job's resources holds them to the same bounds: slurmray.toml's defaults, the CLI's
// flags, the API's options and the Slurm parameters. Before, the Slurm parameters took 1048576 GB of memory
// where the others stopped at 65536.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkResources } from "../../../src/api/options.js";
import { validateSlurmParams } from "../../../src/backends/slurm/params.js";
import { positiveNumber, wholeNumber } from "../../../src/cli/flags.js";
import { resourceDefaultsSchema } from "../../../src/config/schema.js";
import { describeResourceLimits, MEM_MAX_GB, WHOLE_LIMITS } from "../../../src/model/resource-limits.js";

type Key = "nodes" | "cpus" | "mem" | "gpus" | "time";

/** Whether each way takes `value` for `key`. */
function accepted(key: Key, value: number): Record<string, boolean> {
  const ok = (give: () => unknown) => {
    try {
      give();
      return true;
    } catch {
      return false;
    }
  };
  const flag = key === "mem" ? positiveNumber("--mem", MEM_MAX_GB) : wholeNumber(`--${key}`, WHOLE_LIMITS[key]);
  return {
    config: resourceDefaultsSchema.safeParse({ [key]: value }).success,
    flag: ok(() => flag(String(value))),
    api: ok(() => checkResources({ [key]: value })),
    slurm: ok(() => validateSlurmParams({ [key]: value })),
  };
}

const ALL = { config: true, flag: true, api: true, slurm: true };
const NONE = { config: false, flag: false, api: false, slurm: false };

test("each bound is taken and one past it refused, the same by every way of giving resources", () => {
  for (const key of Object.keys(WHOLE_LIMITS) as (keyof typeof WHOLE_LIMITS)[]) {
    const { min, max } = WHOLE_LIMITS[key];
    assert.deepEqual(accepted(key, min), ALL, `${key} = ${min}`);
    assert.deepEqual(accepted(key, max), ALL, `${key} = ${max}`);
    assert.deepEqual(accepted(key, min - 1), NONE, `${key} = ${min - 1}`);
    assert.deepEqual(accepted(key, max + 1), NONE, `${key} = ${max + 1}`);
  }
  assert.deepEqual(accepted("mem", MEM_MAX_GB), ALL);
  assert.deepEqual(accepted("mem", 0.5), ALL);
  assert.deepEqual(accepted("mem", MEM_MAX_GB + 1), NONE);
  assert.deepEqual(accepted("mem", 0), NONE);
});

test("the API's message lists every resource with its bounds", () => {
  assert.throws(() => checkResources({ cpus: 0 }), (error: Error) => error.message.endsWith(`the resources are ${describeResourceLimits()}`));
  assert.equal(describeResourceLimits(), "nodes (1-1024), cpus (1-4096), mem (GB, up to 65536), gpus (0-64), time (minutes, 1-525600), partition");
});
