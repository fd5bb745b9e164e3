// Bounded memory of the CLI for a large result on the Slurm test bed: the result comes over ssh in the watcher's
// frames (`run`) or in one read of result.json (`result JOB`). Peak RSS (VmHWM) of the CLI process.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { tempProject } from "../../helpers/cli.js";
import { BIG_RESULT_PY, bigResultPrinted, canMeasure, PeakRecorder } from "../../helpers/peak-rss.js";
import { removeRemote, requireTestbed, scratchBaseDir } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";

const MB = 100;
const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups) cleanup();
});

test(`slurmray run and result over ssh: a ${MB} MB result costs the CLI about its size`, { skip: !canMeasure, timeout: 600_000 }, (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const base = scratchBaseDir(tb);
  cleanups.push(() => removeRemote(tb, [base]));
  const cwd = tempProject({ "big.py": BIG_RESULT_PY, "slurmray.toml": testbedToml(tb, { baseDir: base }) });
  cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
  execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
  const recorder = new PeakRecorder();
  cleanups.push(() => recorder.remove());
  const run = (name: string, args: string[]) => recorder.run(cwd, name, args);
  run("warm-up", ["run", "big.py:big", "--args", '{"mb": 0}']); // the first run makes the remote env
  const baseline = run("baseline", ["run", "--json", "big.py:big", "--args", '{"mb": 0}']);
  const result = run("result", ["run", "--json", "big.py:big", "--args", JSON.stringify({ mb: MB })]);
  const jobId = /"job_id": "([^"]+)"/.exec(recorder.bytes("result", 0, 200))?.[1];
  assert.ok(jobId, recorder.bytes("result", 0, 200));
  const shown = run("shown", ["result", jobId]);
  const over = (measured: { peakMiB: number }) => measured.peakMiB - baseline.peakMiB;
  console.log(`CLI peak RSS over ssh: baseline ${baseline.peakMiB} MiB; ${MB} MB result: run --json ${over(result)}, result ${over(shown)} MiB over it`);
  const expected = bigResultPrinted(MB);
  assert.equal(shown.stdoutBytes, expected.size);
  assert.equal(recorder.bytes("shown", 0, 12), expected.head);
  assert.equal(recorder.bytes("shown", -12, 12), expected.tail);
  assert.match(recorder.bytes("result", 0, 300), /"state": "COMPLETED",\n(.*\n)? {2}"result": \[\n {4}"r{100}/);
  // run: the watcher's frames fill one buffer of the file's size; result: so does one read of result.json. Both
  // print from there.
  assert.ok(over(result) < MB + 60, `run --json: ${over(result)} MiB over the baseline`);
  assert.ok(over(shown) < MB + 60, `result: ${over(shown)} MiB over the baseline`);
});
