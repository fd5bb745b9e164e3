// Another user's job: cancel and logs are refused at once, with the scheduler's (or the file system's) own
// message. And a jobs dir the user cannot write says so, instead of "sbatch failed".
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { SlurmBackend } from "../../../src/backends/slurm/index.js";
import { jobsDir } from "../../../src/jobs/registry.js";
import { runCli, tempProject } from "../../helpers/cli.js";
import { bedTransport, requireTestbed, sshArgs, type TestBed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";
import { slurmJob } from "../../unit/slurm/job.js";

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function as(tb: TestBed, user: string, command: string): string {
  const r = spawnSync("ssh", [...sshArgs(tb, user), command], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test("cancel and logs of another user's job are refused at once with the scheduler's message", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const theirDir = `/home/${tb.user2}/.srtrust-${process.pid}`;
  const theirJob = as(tb, tb.user2, `umask 077 && mkdir -p ${theirDir} && echo secret > ${theirDir}/job.log && sbatch --parsable -p debug -o /dev/null --wrap 'sleep 120'`);
  cleanups.push(() => void as(tb, tb.user2, `scancel ${theirJob}; rm -rf ${theirDir}`));

  const cwd = tempProject({ "slurmray.toml": testbedToml(tb) });
  cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
  const record = slurmJob({ target: "tb", state: "RUNNING", schedulerId: theirJob, remoteDir: theirDir });
  mkdirSync(jobsDir(cwd), { recursive: true });
  writeFileSync(join(jobsDir(cwd), `${record.id}.json`), JSON.stringify(record));

  let started = Date.now();
  const cancel = await runCli(["cancel", record.id], { cwd, timeoutMs: 30_000 });
  assert.notEqual(cancel.code, 0);
  assert.match(cancel.stderr, /Access\/permission denied/);
  assert.ok(Date.now() - started < 10_000, `cancel took ${Date.now() - started} ms`);

  started = Date.now();
  const logs = await runCli(["logs", record.id], { cwd, timeoutMs: 30_000 });
  assert.notEqual(logs.code, 0);
  assert.match(logs.stderr, /Permission denied/);
  assert.equal(logs.stdout, "");
  assert.ok(Date.now() - started < 10_000);
  // Their job is untouched: still in the queue (pending or running, as Slurm's scheduling pass allows).
  assert.match(as(tb, tb.user2, `squeue -h -j ${theirJob} -o %T`), /^(PENDING|RUNNING)$/);
});

test("a jobs dir the user cannot write is reported as such, not as a failed sbatch", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const transport = bedTransport(tb);
  const dir = `/home/${tb.user}/.srtrust-ro-${process.pid}`;
  cleanups.push(async () => {
    await transport.exec(["sh", "-c", 'chmod -R u+w "$1"; rm -rf "$1"', "sh", dir]);
    await transport.shutdown();
  });
  assert.equal((await transport.exec(["sh", "-c", 'mkdir -p "$1/jobs" && chmod 500 "$1/jobs"', "sh", dir])).code, 0);
  const backend = new SlurmBackend(transport, { target: { partition: "debug" }, runtimeDir: `${dir}/runtime` });
  const job = slurmJob({ remoteDir: `${dir}/jobs/20261124-135501-3fa2c1` });
  await assert.rejects(backend.submit(job), /Could not write the job dir on the target, so nothing was submitted:\n.*Permission denied/);
});
