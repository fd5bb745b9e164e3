// Bounded memory of the CLI itself: `slurmray run` of a job printing 200 MB (one line of 50 MB among them),
// and of a job returning a 100 MB string, on the local target. Measured as the peak RSS (VmHWM) of the CLI
// process, read from /proc at its exit by a preloaded module. Linux only.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { CLI, tempProject } from "../../helpers/cli.js";

const PROJECT = {
  "big.py": `
import sys

def spew(mb, long_mb):
    block = ("x" * 1023 + "\\n") * 1024
    for _ in range(mb - long_mb):
        sys.stdout.write(block)
    for _ in range(long_mb):
        sys.stdout.write("y" * (1 << 20))
    sys.stdout.write("\\n")
    sys.stdout.flush()
    return "done"

def big(mb):
    return "r" * (mb << 20)
`,
  "hwm.mjs": `
import { readFileSync, writeFileSync } from "node:fs";
process.on("exit", () => {
  const peak = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))[1];
  writeFileSync(process.env.HWM_FILE, peak);
});
`,
};

const cwd = tempProject(PROJECT);
after(() => rmSync(cwd, { recursive: true, force: true }));

/** Runs the CLI with its stdout and stderr going to files; returns its peak RSS (MiB) and the files' sizes. */
function peakOfRun(name: string, args: string[]): { peakMiB: number; stdoutBytes: number; stderrBytes: number } {
  const files = { out: join(cwd, `${name}.out`), err: join(cwd, `${name}.err`), hwm: join(cwd, `${name}.hwm`) };
  const script = `exec "$0" --import ./hwm.mjs "$@" > ${files.out} 2> ${files.err}`;
  const run = spawnSync("sh", ["-c", script, process.execPath, CLI, "run", ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", HWM_FILE: files.hwm },
    timeout: 300_000,
  });
  assert.equal(run.status, 0, existsSync(files.err) ? readFileSync(files.err, "utf8").slice(-2000) : String(run.error));
  const sizes = { stdoutBytes: statSync(files.out).size, stderrBytes: statSync(files.err).size };
  rmSync(files.err);
  return { peakMiB: Math.round(Number(readFileSync(files.hwm, "utf8")) / 1024), ...sizes };
}

test("slurmray run: 200 MB of output and a 100 MB result keep the CLI's peak RSS bounded", { skip: !existsSync("/proc/self/status"), timeout: 600_000 }, () => {
  writeFileSync(join(cwd, "slurmray.toml"), "");
  const baseline = peakOfRun("baseline", ["big.py:big", "--args", '{"mb": 0}']);
  const output = peakOfRun("output", ["big.py:spew", "--args", '{"mb": 200, "long_mb": 50}']);
  const result = peakOfRun("result", ["big.py:big", "--args", '{"mb": 100}']);
  console.log(`CLI peak RSS: baseline ${baseline.peakMiB} MiB, 200 MB of output ${output.peakMiB} MiB, 100 MB result ${result.peakMiB} MiB`);
  assert.ok(output.stderrBytes >= 200 << 20, `the log reached stderr (${output.stderrBytes} bytes)`);
  assert.ok(result.stdoutBytes >= 100 << 20, `the result reached stdout (${result.stdoutBytes} bytes)`);
  // The output streams through: well under the 50 MB line, let alone the 200 MB.
  assert.ok(output.peakMiB - baseline.peakMiB < 50, `200 MB of output: ${output.peakMiB - baseline.peakMiB} MiB over the baseline`);
  // The result: its bytes, its text and its value in the watch (~3× its size), then the printed JSON (~2×),
  // against 7× for the watch alone before.
  assert.ok(result.peakMiB - baseline.peakMiB < 640, `100 MB result: ${result.peakMiB - baseline.peakMiB} MiB over the baseline`);
});
