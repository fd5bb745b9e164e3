// `env diff`, `env sync --exact` and `run --json` on the test bed, as a user runs them: what the remote holds
// beyond the snapshot, what --exact removes, and what cannot exist remotely (env.skipped).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";
import { requireTestbed, sshArgs, type TestBed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";
import { wheelIndex } from "../../helpers/wheel-index.js";

after(async () => (await wheelIndex()).stop());

interface Entry {
  name: string;
  action: string;
}

async function json(cwd: string, args: string[]) {
  const r = await runCli([...args, "--json"], { cwd, timeoutMs: 180_000 });
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function ssh(tb: TestBed, command: string): void {
  spawnSync("ssh", [...sshArgs(tb), command], { encoding: "utf8" });
}

describe("env diff, env sync --exact and run --json env.skipped on the test bed", () => {
  it("lists what the remote holds beyond the snapshot, removes it with --exact, and reports a platform-only requirement", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const { url } = await wheelIndex();
    const baseDir = `/tmp/sr-envparity-cli-${process.pid}-${Date.now()}`;
    t.after(() => ssh(tb, `rm -rf '${baseDir}'`));
    const pins = (lines: string): string => `--index-url ${url}\n${lines}\n`;
    const cwd = tempProject({
      "slurmray.toml": testbedToml(tb, { baseDir }).replace("[targets.tb]", 'requirements = "requirements.txt"\n\n[targets.tb]'),
      "requirements.txt": pins("alpha==1.0\ndelta==1.0"),
      "use.py": "def ok():\n    return 1\n",
    });
    await json(cwd, ["env", "sync"]);

    writeFileSync(join(cwd, "requirements.txt"), pins('alpha==1.0\nwinonly==1.0; sys_platform == "win32"'));
    const diff = await json(cwd, ["env", "diff"]);
    const beyond = diff.plan.filter((e: Entry) => e.action !== "keep").map((e: Entry) => [e.name, e.action]);
    assert.deepEqual(beyond, [
      ["delta", "extra"],
      ["epsilon", "extra"],
      ["winonly", "skip-marker"],
    ]);
    assert.deepEqual(diff.skipped.map((s: { name: string }) => s.name), ["winonly"]);
    const human = await runCli(["env", "diff"], { cwd, timeoutMs: 180_000 });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /extra\s+delta\s+1\.0.*--exact would remove it/);
    assert.match(human.stderr, /winonly 1\.0: marker sys_platform == "win32" is false on the remote \(sys_platform = "linux"\)/);
    assert.match(human.stderr, /nothing to install or remove; the target also holds 2 package\(s\) beyond your local environment/);

    const run = await json(cwd, ["run", "use.py:ok"]);
    assert.equal(run.result, 1);
    assert.deepEqual(run.env.skipped.map((s: { name: string }) => s.name), ["winonly"]);

    const exact = await json(cwd, ["env", "sync", "--exact"]);
    assert.deepEqual(exact.removed, ["delta", "epsilon"]);
    const after = await json(cwd, ["env", "diff"]);
    assert.deepEqual(after.plan.filter((e: Entry) => e.action !== "keep" && e.action !== "skip-marker"), []);
  });
});
