// Bounded memory of the CLI itself: `slurmray run` of a job printing 200 MB (one line of 50 MB among them),
// and `run`, `run --json`, `result JOB` and `result JOB --json` of a job returning a 100 MB list, on the local
// target. Measured as the peak RSS (VmHWM) of the CLI process.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { tempProject } from "../../helpers/cli.js";
import { BIG_RESULT_PY, bigResultPrinted, canMeasure, PeakRecorder } from "../../helpers/peak-rss.js";

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
${BIG_RESULT_PY}`,
};

const cwd = tempProject(PROJECT);
const recorder = new PeakRecorder();
after(() => {
  rmSync(cwd, { recursive: true, force: true });
  recorder.remove();
});

test("slurmray run and result: 200 MB of output and a 100 MB result keep the CLI's peak RSS bounded", { skip: !canMeasure, timeout: 900_000 }, () => {
  writeFileSync(join(cwd, "slurmray.toml"), "");
  const run = (name: string, args: string[]) => recorder.run(cwd, name, args);
  const baseline = run("baseline", ["run", "big.py:big", "--args", '{"mb": 0}']);
  const output = run("output", ["run", "big.py:spew", "--args", '{"mb": 200, "long_mb": 50}']);
  const result = run("result", ["run", "big.py:big", "--args", '{"mb": 100}']);
  const json = run("json", ["run", "--json", "big.py:big", "--args", '{"mb": 100}']);
  const jobId = /"job_id": "([^"]+)"/.exec(recorder.bytes("json", 0, 200))?.[1];
  assert.ok(jobId, recorder.bytes("json", 0, 200));
  const shown = run("shown", ["result", jobId]);
  const shownJson = run("shown-json", ["result", "--json", jobId]);
  const over = (measured: { peakMiB: number }) => measured.peakMiB - baseline.peakMiB;
  console.log(
    `CLI peak RSS: baseline ${baseline.peakMiB} MiB; over it: 200 MB of output ${over(output)} MiB, 100 MB result: run ${over(result)}, ` +
      `run --json ${over(json)}, result ${over(shown)}, result --json ${over(shownJson)} MiB`,
  );
  assert.ok(output.stderrBytes >= 200 << 20, `the log reached stderr (${output.stderrBytes} bytes)`);
  // The output streams through: well under the 50 MB line, let alone the 200 MB.
  assert.ok(over(output) < 50, `200 MB of output: ${over(output)} MiB over the baseline`);
  // The result printed as JSON.stringify(value, null, 2) prints it.
  const expected = bigResultPrinted(100);
  for (const [name, measured] of Object.entries({ result, shown })) {
    assert.equal(measured.stdoutBytes, expected.size, name);
    assert.equal(recorder.bytes(name, 0, 12), expected.head);
    assert.equal(recorder.bytes(name, -12, 12), expected.tail);
  }
  assert.match(recorder.bytes("json", 0, 300), /"state": "COMPLETED",\n(.*\n)? {2}"result": \[\n {4}"r{100}/);
  assert.match(recorder.bytes("shown-json", 0, 300), new RegExp(`^\\{\n  "job_id": "${jobId}",\n  "state": "COMPLETED",\n  "result": \\[\n    "r{100}`));
  for (const name of ["json", "shown-json"]) assert.match(recorder.bytes(name, -4000, 4000), /r"\n {2}\],\n {2}"error": null(,\n {2}"env": |\n\}\n$)/);
  // The result's bytes once (its value is never a string or a parsed object), plus a small constant; it was
  // 4–5× its size while the CLI parsed it and pretty-printed a copy.
  for (const [name, measured] of Object.entries({ run: result, "run --json": json, result: shown, "result --json": shownJson })) {
    assert.ok(over(measured) < 100 + 60, `100 MB result, ${name}: ${over(measured)} MiB over the baseline`);
  }
});
