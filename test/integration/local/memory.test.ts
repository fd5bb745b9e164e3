// Bounded memory of the CLI itself: `slurmray run` of a job printing 200 MB (one line of 50 MB among them),
// and `run`, `run --json`, `result JOB` and `result JOB --json` of a job returning a 100 MB list, on the local
// target. Measured as the peak RSS (VmHWM) of the CLI process, read from /proc at its exit by a preloaded
// module. Linux only.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
    return ["r" * 1023] * (mb << 10)
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
/** What the CLI prints goes outside the project, so that no run syncs or hashes an earlier one's output. */
const printed = mkdtempSync(join(tmpdir(), "srmem-"));
after(() => {
  rmSync(cwd, { recursive: true, force: true });
  rmSync(printed, { recursive: true, force: true });
});

/** Runs the CLI with its stdout and stderr going to files; returns its peak RSS (MiB) and the files' sizes. */
function peakOfRun(name: string, args: string[]): { peakMiB: number; stdoutBytes: number; stderrBytes: number } {
  const files = { out: join(printed, `${name}.out`), err: join(printed, `${name}.err`), hwm: join(printed, `${name}.hwm`) };
  const script = `exec "$0" --import ./hwm.mjs "$@" > ${files.out} 2> ${files.err}`;
  const run = spawnSync("sh", ["-c", script, process.execPath, CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", HWM_FILE: files.hwm },
    timeout: 300_000,
  });
  assert.equal(run.status, 0, existsSync(files.err) ? readFileSync(files.err, "utf8").slice(-2000) : String(run.error));
  const sizes = { stdoutBytes: statSync(files.out).size, stderrBytes: statSync(files.err).size };
  rmSync(files.err);
  return { peakMiB: Math.round(Number(readFileSync(files.hwm, "utf8")) / 1024), ...sizes };
}

/** `length` bytes of a file from `position` (negative: from its end). */
function bytesOf(name: string, position: number, length: number): string {
  const path = join(printed, `${name}.out`);
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, position < 0 ? statSync(path).size + position : position);
    return buffer.subarray(0, read).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

const ITEM = `"${"r".repeat(1023)}"`;

test("slurmray run and result: 200 MB of output and a 100 MB result keep the CLI's peak RSS bounded", { skip: !existsSync("/proc/self/status"), timeout: 900_000 }, () => {
  writeFileSync(join(cwd, "slurmray.toml"), "");
  const baseline = peakOfRun("baseline", ["run", "big.py:big", "--args", '{"mb": 0}']);
  const output = peakOfRun("output", ["run", "big.py:spew", "--args", '{"mb": 200, "long_mb": 50}']);
  const result = peakOfRun("result", ["run", "big.py:big", "--args", '{"mb": 100}']);
  const json = peakOfRun("json", ["run", "--json", "big.py:big", "--args", '{"mb": 100}']);
  const jobId = /"job_id": "([^"]+)"/.exec(bytesOf("json", 0, 200))?.[1];
  assert.ok(jobId, bytesOf("json", 0, 200));
  const shown = peakOfRun("shown", ["result", jobId]);
  const shownJson = peakOfRun("shown-json", ["result", "--json", jobId]);
  const over = (run: { peakMiB: number }) => run.peakMiB - baseline.peakMiB;
  console.log(
    `CLI peak RSS: baseline ${baseline.peakMiB} MiB; over it: 200 MB of output ${over(output)} MiB, 100 MB result: run ${over(result)}, ` +
      `run --json ${over(json)}, result ${over(shown)}, result --json ${over(shownJson)} MiB`,
  );
  assert.ok(output.stderrBytes >= 200 << 20, `the log reached stderr (${output.stderrBytes} bytes)`);
  // The output streams through: well under the 50 MB line, let alone the 200 MB.
  assert.ok(over(output) < 50, `200 MB of output: ${over(output)} MiB over the baseline`);
  // The result printed as JSON.stringify(value, null, 2) prints it: "[", one indented item a line, "]".
  const items = 100 << 10;
  for (const name of ["result", "shown"]) {
    assert.equal(statSync(join(printed, `${name}.out`)).size, 2 + items * (ITEM.length + 4) - 1 + 2, name);
    assert.equal(bytesOf(name, 0, 12), `[\n  ${ITEM.slice(0, 8)}`);
    assert.equal(bytesOf(name, -12, 12), `${ITEM.slice(-9)}\n]\n`);
  }
  assert.match(bytesOf("json", 0, 300), /"state": "COMPLETED",\n(.*\n)? {2}"result": \[\n {4}"r{100}/);
  assert.match(bytesOf("shown-json", 0, 300), new RegExp(`^\\{\n  "job_id": "${jobId}",\n  "state": "COMPLETED",\n  "result": \\[\n    "r{100}`));
  for (const name of ["json", "shown-json"]) assert.match(bytesOf(name, -4000, 4000), /r"\n {2}\],\n {2}"error": null(,\n {2}"env": |\n\}\n$)/);
  // The result's bytes once (its value is never a string or a parsed object), plus a small constant; it was
  // 4–5× its size while the CLI parsed it and pretty-printed a copy.
  for (const [name, run] of Object.entries({ run: result, "run --json": json, result: shown, "result --json": shownJson })) {
    assert.ok(over(run) < 100 + 60, `100 MB result, ${name}: ${over(run)} MiB over the baseline`);
  }
});
