// Progress on a terminal, through a real pseudo-terminal (Python's pty module): a spinner while a step is under
// way, a ✔ line when it ends, no spinner once the job's output streams, and no colour with NO_COLOR; on the test
// bed, the env sync's spinner names the package being installed, n of m.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { CLI, tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";
import { wheelIndex } from "../../helpers/wheel-index.js";

const PTY_RUN = `
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(sys.argv[1], sys.argv[1:], os.environ)
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
const SGR = /\x1b\[\d+(;\d+)*m/;

function onTerminal(args: string[], cwd: string, env: Record<string, string>): { code: number | null; out: string } {
  const { CI: _ci, NO_COLOR: _nc, FORCE_COLOR: _fc, ...base } = process.env;
  const r = spawnSync("python3", ["-c", PTY_RUN, process.execPath, CLI, ...args], { cwd, encoding: "utf8", env: { ...base, TERM: "xterm-256color", ...env }, timeout: 60_000 });
  return { code: r.status, out: r.stdout };
}

describe("progress on a terminal", () => {
  const cwd = tempProject({ "work.py": "import time\n\ndef slow():\n    time.sleep(2.5)\n    print('job output line', flush=True)\n    time.sleep(0.5)\n    return 42\n" });

  it("draws a spinner until the job's output starts, then plain lines; ✔ when a step ends", () => {
    const { code, out } = onTerminal(["run", "work.py:slow"], cwd, { NO_COLOR: "1" });
    assert.equal(code, 0, out);
    const outputAt = out.indexOf("job output line");
    assert.ok(outputAt > 0, out);
    assert.match(out.slice(0, outputAt), SPINNER, "a spinner before the output");
    assert.match(out.slice(0, outputAt), /job \S+: running \d s/, "the run's elapsed time on the spinner");
    assert.doesNotMatch(out.slice(outputAt), SPINNER, "no spinner once output streams");
    assert.match(out.slice(outputAt), /✔ job \S+ ended COMPLETED \(\d+\.\d s\)/);
    assert.match(out, /42\r?\n/);
    assert.doesNotMatch(out, SGR, "NO_COLOR: no colour codes");
  });

  it("colours when NO_COLOR is not set", () => {
    const { code, out } = onTerminal(["run", "work.py:slow"], cwd, {});
    assert.equal(code, 0, out);
    assert.match(out, SGR);
  });
});

describe("env sync progress on a terminal, on the test bed", () => {
  after(async () => (await wheelIndex()).stop());

  it("the spinner names each package as the installer installs it, n of m", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const { url } = await wheelIndex();
    const baseDir = `/tmp/srtty-${randomBytes(4).toString("hex")}`;
    t.after(() => removeRemote(tb, [baseDir]));
    const cwd = tempProject({
      "slurmray.toml": testbedToml(tb, { baseDir }).replace("[targets.tb]", 'requirements = "requirements.txt"\n\n[targets.tb]'),
      "requirements.txt": `--index-url ${url}\nalpha==1.0\nbeta==2.0\n`,
      "use.py": "def ok():\n    return 1\n",
    });
    const { code, out } = onTerminal(["run", "use.py:ok"], cwd, { NO_COLOR: "1" });
    assert.equal(code, 0, out);
    const envDone = out.search(/✔ env sync: created/);
    assert.ok(envDone > 0, out);
    const spinning = new RegExp(`${SPINNER.source} env sync: installed beta \\(2 of 2\\)`);
    assert.match(out.slice(0, envDone), spinning, "the spinner's text names the package, n of m");
    assert.doesNotMatch(out, /^\d\d:\d\d:\d\d env sync: installed/m, "no plain lines on a terminal");
  });
});
