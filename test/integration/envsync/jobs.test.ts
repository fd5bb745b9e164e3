// Envs never change under a job, through the CLI on the real Slurm bed: job A waits in the queue or runs,
// the snapshot changes, job B is submitted; A imports the package after the change and still sees its
// version, B sees the new one, and the old env is removed by `clean` once A has ended.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed, sshArgs, type TestBed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";
import { wheelIndex } from "../../helpers/wheel-index.js";

after(async () => (await wheelIndex()).stop());

async function json(cwd: string, args: string[]) {
  const r = await runCli([...args, "--json"], { cwd, timeoutMs: 180_000 });
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function ssh(tb: TestBed, command: string): number | null {
  return spawnSync("ssh", [...sshArgs(tb), command], { encoding: "utf8" }).status;
}

const USE = `import os, sys, time

def later(flag):
    while not os.path.exists(flag):
        time.sleep(0.1)
    import alpha
    return [alpha.__version__, sys.prefix]

def now():
    import alpha
    return [alpha.__version__, sys.prefix]
`;

describe("env generations through the CLI on the Slurm bed", () => {
  it("job A keeps its env while job B gets the changed package; clean removes A's env once A has ended", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const { url } = await wheelIndex();
    const baseDir = `/tmp/sr-envgen-cli-${process.pid}-${Date.now()}`;
    const flag = `${baseDir}/go`;
    t.after(() => removeRemote(tb, [baseDir]));
    const pins = (version: string): string => `--index-url ${url}\nalpha==${version}\n`;
    const cwd = tempProject({
      "slurmray.toml": testbedToml(tb, { baseDir }).replace("[targets.tb]", 'requirements = "requirements.txt"\n\n[targets.tb]'),
      "requirements.txt": pins("1.0"),
      "use.py": USE,
    });
    const record = (id: string): { python: string } => JSON.parse(readFileSync(join(cwd, ".slurmray", "jobs", `${id}.json`), "utf8"));

    const a = await json(cwd, ["run", "use.py:later", "--args", JSON.stringify({ flag }), "--detach"]);
    writeFileSync(join(cwd, "requirements.txt"), pins("1.1"));
    // B detached too: on a one-slot bed it may queue behind A, which waits for the flag.
    const b = await json(cwd, ["run", "use.py:now", "--detach"]);
    assert.deepEqual(b.env.changed, [{ name: "alpha", from: "1.0", to: "1.1" }]);
    const envA = record(a.job_id).python.replace(/\/bin\/python$/, "");
    const envB = record(b.job_id).python.replace(/\/bin\/python$/, "");
    assert.equal(envB, `${envA}-1`, "B's env is built beside A's");
    assert.equal(ssh(tb, `touch '${flag}'`), 0);

    const resultA = await json(cwd, ["attach", a.job_id]);
    const resultB = await json(cwd, ["attach", b.job_id]);
    assert.deepEqual(resultA.result, ["1.0", envA], "A imported alpha after the change and saw its own version");
    assert.deepEqual(resultB.result, ["1.1", envB]);

    // The warm path names B's env; then clean removes A's, which no job uses any more.
    const warm = await json(cwd, ["run", "use.py:now"]);
    assert.deepEqual(warm.result, ["1.1", envB]);
    assert.equal(warm.env.reused, true);
    const clean = await json(cwd, ["clean"]);
    assert.deepEqual(clean.envs_removed, [envA]);
    assert.equal(ssh(tb, `test -e '${envA}'`), 1, "the old env is gone");
    assert.equal(ssh(tb, `test -x '${envB}/bin/python'`), 0, "the current env stays");
  });
});
