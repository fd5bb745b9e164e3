// A full `slurmray run` on the Slurm test bed for a user whose login shell is tcsh, over both SSH transports:
// every remote command (probe, env, code sync, sbatch, watch, result) must run under /bin/sh; and what its
// start-up file sets must not change what the job imports.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed, runOnBed, scratchBaseDir, type TestBed, testbed } from "../../helpers/testbed.js";
import { serverToml, testbedToml } from "../../helpers/testbed-project.js";

const WORK = `import os, sys

def hello(name):
    print("hello from", os.environ.get("SLURMD_NODENAME"), flush=True)
    return {"greeting": f"hello {name}!", "shell": os.environ.get("SHELL")}

def imports():
    import shutil, subprocess
    try:
        import stale
        found = stale.WHERE
    except ImportError:
        found = None
    # What a job's subprocess.run(["python", ...]) starts: the env's interpreter, as in an activated venv.
    child = subprocess.run(["python", "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True).stdout.strip()
    umask = os.umask(0o22)
    return {"PYTHONPATH": os.environ.get("PYTHONPATH"), "stale": found, "on_path": [p for p in sys.path if "stale" in p], "python": child == sys.prefix, "umask": oct(umask)}
`;

const bed = testbed();
const base = bed ? scratchBaseDir(bed, bed.tcshUser) : "";
after(() => bed && removeRemote(bed, [base], bed.tcshUser));

/** A project of the tcsh user's, with its own empty virtualenv, so the remote env needs no package index. */
function project(toml: string): string {
  const cwd = tempProject({ "work.py": WORK, "slurmray.toml": toml });
  execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
  return cwd;
}

describe("slurmray run for a tcsh user", () => {
  for (const transport of ["openssh", "ssh2"]) {
    it(`runs a job to completion over ${transport}`, async (t) => {
      const tb = requireTestbed(t);
      if (!tb) return;
      const cwd = project(testbedToml(tb, { user: tb.tcshUser, baseDir: base, extra: `transport = "${transport}"\n` }));
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

// A PYTHONPATH set by the user's shell start-up file on the cluster (or a `module load` there) reaches the job
// through the ssh session that submits it, on both remote kinds; it must not, where it would come before the
// env's packages.
describe("the target's login environment and the job's imports", () => {
  // The server's jobs go through a queue dir of this test's own (root-owned and sticky, as an admin makes it;
  // the tests run as root): in the bed's, they would hold cores other tests' jobs expect to get.
  let queueDir = "";
  before(() => {
    queueDir = mkdtempSync(join(tmpdir(), "sr-queue-"));
    chmodSync(queueDir, 0o1777);
  });
  after(() => rmSync(queueDir, { recursive: true, force: true }));
  const kinds = {
    slurm: (tb: TestBed) => testbedToml(tb, { user: tb.tcshUser, baseDir: base }),
    server: (tb: TestBed) => serverToml(tb, { user: tb.tcshUser, baseDir: base, gpus: [], queueDir }),
  };
  for (const [kind, toml] of Object.entries(kinds)) {
    it(`${kind}: a PYTHONPATH from ~/.tcshrc does not reach the job, and its log says so; one given with --env does; "python" is the env's; the umask is the user's`, async (t) => {
      const tb = requireTestbed(t);
      if (!tb) return;
      const stale = `${base}/stale`;
      runOnBed(tb, `mkdir -p ${stale} && echo "WHERE = 'login PYTHONPATH'" > ${stale}/stale.py && printf 'setenv PYTHONPATH ${stale}\\numask 002\\n' > ~/.tcshrc`, tb.tcshUser);
      try {
        const cwd = project(toml(tb));
        const r = await runCli(["run", "work.py:imports", "--json"], { cwd, timeoutMs: 180_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout).result, { PYTHONPATH: null, stale: null, on_path: [], python: true, umask: "0o2" });
        assert.ok(r.stderr.includes(`slurmray: PYTHONPATH=${stale} from the target's login environment is not passed to the job`), r.stderr);
        const given = await runCli(["run", "work.py:imports", "--env", `PYTHONPATH=${stale}`, "--json"], { cwd, timeoutMs: 180_000 });
        assert.equal(given.code, 0, given.stderr);
        assert.deepEqual(JSON.parse(given.stdout).result, { PYTHONPATH: stale, stale: "login PYTHONPATH", on_path: [stale], python: true, umask: "0o2" });
      } finally {
        runOnBed(tb, "rm -f ~/.tcshrc", tb.tcshUser);
      }
    });
  }
});
