// slurmray clean on the local target: old job folders go, recent and running ones stay.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";

const age = (path: string) => execFileSync("sh", ["-c", 'find "$1" -exec touch -d "10 days ago" {} +', "sh", path]);

describe("slurmray clean (local target)", () => {
  it("removes old finished job folders and their records, keeps recent and running jobs", async () => {
    const cwd = tempProject({ "w.py": "import time\ndef f(n=0):\n    time.sleep(n)\n    return n\n" });
    const jobs = join(cwd, ".slurmray", "jobs");
    const ids: string[] = [];
    for (const args of ['{"n": 0}', '{"n": 0}']) {
      const r = await runCli(["run", "w.py:f", "--args", args, "--json"], { cwd });
      ids.push(JSON.parse(r.stdout).job_id);
    }
    const running = (await runCli(["run", "w.py:f", "--args", '{"n": 60}', "--detach"], { cwd })).stdout.trim();
    writeFileSync(join(jobs, ids[0]!, "big.bin"), Buffer.alloc(2 * 1024 * 1024));
    age(join(jobs, ids[0]!));
    age(join(jobs, running));

    const r = await runCli(["clean", "--older-than", "7", "--json"], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.removed, [ids[0]]);
    assert.ok(out.bytes_freed >= 2 * 1024 * 1024, String(out.bytes_freed));
    assert.equal(existsSync(join(jobs, ids[0]!)), false);
    assert.equal(existsSync(join(jobs, `${ids[0]}.json`)), false);
    assert.equal(existsSync(join(jobs, ids[1]!)), true);
    assert.equal(existsSync(join(jobs, running)), true);
    assert.equal((await runCli(["cancel", running], { cwd })).code, 0);
  });

  it("refuses a bad --older-than with exit code 2", async () => {
    const cwd = tempProject({});
    const r = await runCli(["clean", "--older-than", "-3"], { cwd });
    assert.equal(r.code, 2);
  });
});
