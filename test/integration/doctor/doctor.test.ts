// slurmray doctor against the real sshd + Slurm test bed.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed, scratchBaseDir, testbed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";

/** This file's base_dir on the bed (doctor creates it), removed after its tests. */
const bed = testbed();
const baseDir = bed ? scratchBaseDir(bed) : "";
after(() => bed && removeRemote(bed, [baseDir]));

describe("slurmray doctor", () => {
  it("passes every check on a healthy target", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const cwd = tempProject({ "slurmray.toml": testbedToml(tb, { baseDir, extra: 'python = "3.11"\n' }) });
    const r = await runCli(["doctor"], { cwd });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const name of ["connection", "remote Python", "uv", "Slurm commands", "partitions", "base dir writable", "free disk"]) {
      assert.match(r.stdout, new RegExp(`✓ ${name}: `), name);
    }
    assert.match(r.stdout, /partitions: debug\*, short/);
  });

  it("names a missing partition and how to fix it", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const cwd = tempProject({ "slurmray.toml": testbedToml(tb, { baseDir }).replace('partition = "debug"', 'partition = "gpu"') });
    const r = await runCli(["doctor"], { cwd });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✗ partitions: debug\*, short \(configured: gpu\)\n {4}fix: set partition to one of: debug, short/);
  });

  it("refuses an unknown host key and says how to accept it", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const cwd = tempProject({});
    const emptyKnownHosts = join(cwd, "known_hosts");
    writeFileSync(emptyKnownHosts, "");
    writeFileSync(join(cwd, "slurmray.toml"), testbedToml(tb, { baseDir, knownHosts: emptyKnownHosts }));
    const r = await runCli(["doctor"], { cwd, env: { HOME: cwd } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✗ connection: .*\n {4}fix: .*--accept-new-host-key/s);
  });
});
