// `slurmray env diff`, `env sync` and the env part of `run`, on the test bed, against the hermetic index.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { projectId } from "../../../src/config/load.js";
import { runCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed, scratchBaseDir, sshArgs, type TestBed, testbed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";
import { wheelIndex } from "../../helpers/wheel-index.js";

after(async () => (await wheelIndex()).stop());

/** This file's base_dir on the bed, removed after its tests. */
const bed = testbed();
const base = bed ? scratchBaseDir(bed) : "";
after(() => bed && removeRemote(bed, [base]));

async function project(tb: TestBed, pins: string): Promise<string> {
  const { url } = await wheelIndex();
  return tempProject({
    "slurmray.toml": testbedToml(tb, { baseDir: base }).replace("[targets.tb]", 'requirements = "requirements.txt"\n\n[targets.tb]'),
    "requirements.txt": `--index-url ${url}\n${pins}\n`,
    "use.py": "import alpha\nfrom importlib.metadata import version\n\ndef which():\n    return version('alpha')\n",
  });
}

function setPins(cwd: string, url: string, pins: string): void {
  writeFileSync(join(cwd, "requirements.txt"), `--index-url ${url}\n${pins}\n`);
}

function remoteEnvExists(tb: TestBed, cwd: string): boolean {
  const out = spawnSync("ssh", [...sshArgs(tb), `ls -d ${base}/envs/${projectId(cwd)}-py3.11 2>/dev/null`], { encoding: "utf8" }).stdout;
  return out.trim() !== "";
}

async function json(cwd: string, args: string[]) {
  const r = await runCli([...args, "--json"], { cwd, timeoutMs: 180_000 });
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("slurmray env diff / env sync on the test bed", () => {
  it("diff changes nothing, sync installs exactly the plan, run reports what changed", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const { url } = await wheelIndex();
    const cwd = await project(tb, "alpha==1.1\nbeta==1.0");

    const before = await json(cwd, ["env", "diff"]);
    assert.equal(before.missing, true);
    assert.deepEqual(before.plan.map((e: { name: string; action: string }) => [e.name, e.action]), [["alpha", "install"], ["beta", "install"]]);
    assert.equal(remoteEnvExists(tb, cwd), false, "env diff must not create the env");

    const synced = await json(cwd, ["env", "sync"]);
    assert.equal(synced.created, true);
    assert.deepEqual([...synced.installed].sort(), ["alpha", "beta"]);

    const same = await json(cwd, ["env", "diff"]);
    assert.deepEqual(same.plan.filter((e: { action: string }) => e.action !== "keep"), []);
    const again = await json(cwd, ["env", "sync"]);
    assert.equal(again.reused, true);
    assert.deepEqual(again.installed, []);
    assert.equal(again.remote_commands, 1);

    setPins(cwd, url, "alpha==2.0\nbeta==1.0");
    const planned = await json(cwd, ["env", "diff"]);
    assert.deepEqual(planned.plan.filter((e: { action: string }) => e.action !== "keep").map((e: { name: string; action: string; from: string; to: string }) => [e.name, e.action, e.from, e.to]), [["alpha", "upgrade", "1.1", "2.0"]]);

    const run = await json(cwd, ["run", "use.py:which"]);
    assert.equal(run.result, "2.0");
    assert.deepEqual(run.env.changed, [{ name: "alpha", from: "1.1", to: "2.0" }]);
    assert.deepEqual(run.env.installed, []);

    const rebuilt = await json(cwd, ["env", "sync", "--force-reinstall"]);
    assert.equal(rebuilt.created, true);
  });

  it("refuses the local target and unknown flags with exit code 2", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const cwd = await project(tb, "alpha==1.1");
    const local = await runCli(["env", "diff", "--target", "local"], { cwd });
    assert.equal(local.code, 2);
    assert.match(local.stderr, /is local: jobs there use your project interpreter as it is/);
    const bogus = await runCli(["env", "sync", "--bogus"], { cwd });
    assert.equal(bogus.code, 2);
    assert.equal(remoteEnvExists(tb, cwd), false);
  });
});
