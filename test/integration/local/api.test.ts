// The public library on the local target: Cluster.run / submit / map and Job.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Cluster, JobFailedError } from "../../../src/api/index.js";
import { tempProject } from "../../helpers/cli.js";

const cwd = tempProject({
  "calc.py": "def square(x):\n    print('squaring', x)\n    return x * x\n\ndef boom():\n    raise ValueError('bad value')\n",
});

describe("Cluster and Job on the local target", () => {
  it("run returns the function's result", async () => {
    assert.equal(await new Cluster({ cwd }).run("calc.py:square", { args: { x: 7 } }), 49);
  });

  it("map runs one job per argument set and keeps the order", async () => {
    assert.deepEqual(await new Cluster({ cwd }).map("calc.py:square", [{ x: 1 }, { x: 2 }, { x: 3 }]), [1, 4, 9]);
  });

  it("a failing job rejects with its Python traceback", async () => {
    await assert.rejects(new Cluster({ cwd }).run("calc.py:boom"), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.match(error.message, /ValueError: bad value/);
      assert.match(error.message, /calc\.py", line 6, in boom/);
      return true;
    });
  });

  it("a submitted job can be found again, and its logs read", async () => {
    const cluster = new Cluster({ cwd });
    const job = await cluster.submit("calc.py:square", { args: { x: 5 } });
    assert.equal(await job.result(), 25);
    const again = cluster.job(job.id);
    assert.equal(await again.status(), "COMPLETED");
    assert.match(await again.logs(), /squaring 5/);
  });
});
