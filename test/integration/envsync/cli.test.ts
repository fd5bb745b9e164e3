// `env diff`, `env sync --exact` and `run --json` on the test bed, as a user runs them: what the remote holds
// beyond the snapshot, what --exact removes, and what cannot exist remotely (env.skipped).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed, type TestBed } from "../../helpers/testbed.js";
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

/** A project on the bed (its base dir removed afterwards, read-only code trees included) whose requirements file uses the test index. */
async function bedProject(t: TestContext, tb: TestBed, name: string, requirements: string, code: string) {
  const { url } = await wheelIndex();
  const baseDir = `/tmp/sr-${name}-${process.pid}-${Date.now()}`;
  t.after(() => removeRemote(tb, [baseDir]));
  const pins = (lines: string): string => `--index-url ${url}\n${lines}\n`;
  const cwd = tempProject({
    "slurmray.toml": testbedToml(tb, { baseDir }).replace("[targets.tb]", 'requirements = "requirements.txt"\n\n[targets.tb]'),
    "requirements.txt": pins(requirements),
    "use.py": code,
  });
  return { cwd, pins };
}

describe("env diff, env sync --exact and run --json env.skipped on the test bed", () => {
  it("lists what the remote holds beyond the snapshot, removes it with --exact, and reports a platform-only requirement", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const { cwd, pins } = await bedProject(t, tb, "envparity-cli", "alpha==1.0\ndelta==1.0", "def ok():\n    return 1\n");
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

  it("run --json succeeds when a pinned package has no wheel for the target's platform: env.skipped lists it with the reason, the rest is installed", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    // The index has maconly 1.0 only as a macOS wheel.
    const code = "import importlib.util\nimport alpha\n\ndef check():\n    return [alpha.__version__, importlib.util.find_spec('maconly') is None]\n";
    const { cwd } = await bedProject(t, tb, "nowheel-cli", "alpha==1.0\nmaconly==1.0", code);
    const skipped = [{ name: "maconly", version: "1.0", reason: "no wheel or sdist for the remote platform (linux x86_64, cp311) in the target's package index" }];
    const r = await runCli(["run", "use.py:check", "--json"], { cwd, timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    const run = JSON.parse(r.stdout);
    assert.deepEqual(run.result, ["1.0", true], "alpha is there, maconly is not");
    assert.deepEqual(run.env.skipped, skipped);
    assert.match(r.stderr, /maconly 1\.0 \(a top-level requirement\) cannot be installed on the target/);

    const diff = await json(cwd, ["env", "diff"]);
    assert.deepEqual([diff.skipped, diff.plan.map((e: Entry) => [e.name, e.action])], [skipped, [["alpha", "keep"]]]);
    const human = await runCli(["env", "diff"], { cwd, timeoutMs: 180_000 });
    assert.match(human.stderr, /maconly 1\.0: no wheel or sdist for the remote platform \(linux x86_64, cp311\)/);
    const warm = await json(cwd, ["run", "use.py:check"]);
    assert.deepEqual([warm.env.reused, warm.env.skipped], [true, skipped]);
  });
});
