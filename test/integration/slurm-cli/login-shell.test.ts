// A full `slurmray run` on the Slurm test bed for a user whose login shell is tcsh, over both SSH transports:
// every remote command (probe, env, code sync, sbatch, watch, result) must run under /bin/sh.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed, scratchBaseDir, testbed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";

const WORK = `import os

def hello(name):
    print("hello from", os.environ.get("SLURMD_NODENAME"), flush=True)
    return {"greeting": f"hello {name}!", "shell": os.environ.get("SHELL")}
`;

const bed = testbed();
const base = bed ? scratchBaseDir(bed, bed.tcshUser) : "";
after(() => bed && removeRemote(bed, [base], bed.tcshUser));

describe("slurmray run for a tcsh user", () => {
  for (const transport of ["openssh", "ssh2"]) {
    it(`runs a job to completion over ${transport}`, async (t) => {
      const tb = requireTestbed(t);
      if (!tb) return;
      const toml = testbedToml(tb, { user: tb.tcshUser, baseDir: base, extra: `transport = "${transport}"\n` });
      const cwd = tempProject({ "work.py": WORK, "slurmray.toml": toml });
      // Its own empty virtualenv, so the remote env needs no package index.
      execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
      // Characters tcsh treats specially, even inside single quotes: `!`, and `$` in double quotes.
      const name = `it's !$USER "${transport}"`;
      const r = await runCli(["run", "work.py:hello", "--args", JSON.stringify({ name }), "--json"], { cwd, timeoutMs: 180_000 });
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.state, "COMPLETED");
      assert.deepEqual(report.result, { greeting: `hello ${name}!`, shell: "/usr/bin/tcsh" });
      assert.match(r.stderr, /hello from n[1-3]\n/, "the job's output is streamed");
    });
  }
});
