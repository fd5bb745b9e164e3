import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseSubmitOutput, submitDirsSnippet } from "../../../src/backends/slurm/submit.js";
import { SlurmrayError } from "../../../src/util/errors.js";
import { scratchDir } from "../../helpers/scratch.js";

test("an array's submit writes every element's dir and job.json with a few processes, whatever its size; sbatch gets the user's umask", () => {
  const root = scratchDir("/tmp/sr-submit-");
  const bin = join(root, "bin");
  const store = join(root, "trees");
  mkdirSync(bin);
  mkdirSync(join(store, "t1"), { recursive: true });
  // A fake sbatch that records where it ran and with what.
  writeFileSync(join(bin, "sbatch"), `#!/bin/sh\npwd > ${root}/sbatch.cwd\necho "$@" > ${root}/sbatch.args\numask > ${root}/sbatch.umask\necho 4242\n`);
  chmodSync(join(bin, "sbatch"), 0o755);
  const array = join(root, "jobs", "J");
  const n = 600; // more than one chunk of arguments per command
  const dirs = Array.from({ length: n }, (_, i) => ({ dir: `${array}/${i}`, spec: JSON.stringify({ id: `J_${i}`, args: { x: i } }) }));
  // A retried element: its old outcome must go, its log stays.
  mkdirSync(`${array}/7`, { recursive: true, mode: 0o755 });
  writeFileSync(`${array}/7/result.json`, "old");
  writeFileSync(`${array}/7/job.log`, "earlier attempt\n");
  const snippet = submitDirsSnippet(array, { codeDir: join(store, "t1"), python: "/env/bin/python" }, dirs, "#!/bin/bash\ntrue\n", ["--array=0-599%10"]);
  const processes = snippet.split("\n").filter((line) => /^\s+(mkdir|chmod|rm) /.test(line)).length;
  // Chunks of 256 arguments: mkdir and chmod of 600 dirs, rm of 3,000 stale paths, and the array's own dir
  // (it was three processes per element: 1,800).
  assert.ok(processes <= 19, `${processes} mkdir/chmod/rm lines for ${n} elements`);
  const run = spawnSync("sh", ["-s"], { input: `umask 002\n${snippet}`, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env["PATH"]}` } });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(parseSubmitOutput(run.stdout), "4242");
  assert.equal(readFileSync(join(root, "sbatch.umask"), "utf8").trim(), "0002", "Slurm hands sbatch's umask to the job");
  for (const i of [0, 7, 255, 256, 599]) {
    assert.deepEqual(JSON.parse(readFileSync(`${array}/${i}/job.json`, "utf8")), { id: `J_${i}`, args: { x: i } });
    assert.equal(statSync(`${array}/${i}`).mode & 0o777, 0o700);
  }
  assert.equal(existsSync(`${array}/7/result.json`), false);
  assert.equal(readFileSync(`${array}/7/job.log`, "utf8"), "earlier attempt\n");
  assert.equal(readFileSync(join(root, "sbatch.cwd"), "utf8").trim(), array);
  assert.equal(readFileSync(join(root, "sbatch.args"), "utf8").trim(), "--parsable --array=0-599%10 sbatch.sh");
});

test("a job is submitted only while its env still holds the snapshot it was synced for; else nothing is submitted and the error says why", () => {
  const root = scratchDir("/tmp/sr-submit-");
  const bin = join(root, "bin");
  const env = join(root, "env");
  mkdirSync(bin);
  mkdirSync(join(root, "trees", "t1"), { recursive: true });
  mkdirSync(join(env, "bin"), { recursive: true });
  writeFileSync(join(bin, "sbatch"), `#!/bin/sh\necho submitted >> ${root}/sbatch.calls\necho 4242\n`);
  chmodSync(join(bin, "sbatch"), 0o755);
  const hash = "0123456789abcdef0123456789abcdef";
  const job = { codeDir: join(root, "trees", "t1"), python: join(env, "bin", "python"), envHash: hash };
  const submit = () => {
    const snippet = submitDirsSnippet(join(root, "jobs", "J"), job, [{ dir: join(root, "jobs", "J"), spec: "{}" }], "#!/bin/bash\ntrue\n", []);
    return spawnSync("sh", ["-s"], { input: snippet, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env["PATH"]}` } });
  };
  const calls = () => (existsSync(join(root, "sbatch.calls")) ? readFileSync(join(root, "sbatch.calls"), "utf8").split("\n").length - 1 : 0);
  const refused = new RegExp(`^the env ${env} no longer holds the packages this job was submitted with \\(another run changed them since\\): nothing was submitted`);
  for (const stamp of [null, `{"version":1,"hash":"ffffffffffffffffffffffffffffffff","id":"1"}`]) {
    if (stamp === null) rmSync(join(env, ".slurmray-env.json"), { force: true });
    else writeFileSync(join(env, ".slurmray-env.json"), `${stamp}\n`);
    const run = submit();
    assert.throws(() => parseSubmitOutput(run.stdout), (error: Error) => error instanceof SlurmrayError && error.exitCode === 1 && refused.test(error.message));
    assert.equal(calls(), 0);
  }
  writeFileSync(join(env, ".slurmray-env.json"), `{"version":1,"hash":"${hash}","id":"2"}\n`);
  assert.equal(parseSubmitOutput(submit().stdout), "4242");
  assert.equal(calls(), 1);
});
