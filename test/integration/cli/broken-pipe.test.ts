// A reader that goes away (`slurmray jobs --json | head -c 100`, `slurmray run … 2>&1 | head -5`), on the local
// target: the command ends quietly with 141 when stdout has no reader, and goes on when only stderr has none.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listJobs } from "../../../src/jobs/registry.js";
import { startCli, tempProject } from "../../helpers/cli.js";

const PROJECT = { "work.py": "def add(a, b):\n    print('adding', a, b, flush=True)\n    return a + b\n" };

describe("a reader that goes away", () => {
  it("stdout: the command ends with 141, without a stack trace", async () => {
    const root = tempProject(PROJECT);
    const { child, done } = startCli(["jobs", "--json"], { cwd: root });
    child.stdout!.destroy(); // before the CLI has written anything: its write finds no reader
    const result = await done;
    assert.equal(result.code, 141, result.stderr);
    assert.doesNotMatch(result.stderr, /EPIPE|Unhandled|at /);
  });

  it("stderr: the run goes on to its end, and its result is printed and recorded", async () => {
    const root = tempProject(PROJECT);
    const { child, done } = startCli(["run", "work.py:add", "--args", '{"a": 2, "b": 3}'], { cwd: root });
    child.stderr!.destroy(); // the progress lines and the job's output find no reader
    const result = await done;
    assert.equal(result.code, 0);
    assert.equal(JSON.parse(result.stdout), 5);
    const [job] = listJobs(root);
    assert.equal(job?.state, "COMPLETED");
  });
});
