// Retention never deletes live work, and a forged reply to `clean` removes nothing outside .slurmray/.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { liveJobsCommand } from "../../../src/backends/slurm/jobs-list.js";
import { cleanJobDirs } from "../../../src/codesync/retention.js";
import { jobsDir as recordsDir, removeJob } from "../../../src/jobs/registry.js";
import { LocalTransport } from "../../../src/transport/local.js";
import type { Transport } from "../../../src/transport/types.js";
import { quote } from "../../../src/util/shell.js";
import { runCli, tempProject } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";
import { bedTransport, requireTestbed } from "../../helpers/testbed.js";

const local = new LocalTransport();
const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Job dirs whose every file is 10 days old, made by a command on the transport (the bed's user owns them there). */
async function agedDirs(transport: Transport, dir: string, ids: string[]): Promise<void> {
  const script = ids.map((id) => `mkdir -p ${quote(`${dir}/${id}`)} && echo x > ${quote(`${dir}/${id}/job.log`)}`).join("\n");
  const r = await transport.script(`${script}\nfind ${quote(dir)} -exec touch -d "10 days ago" {} +`);
  assert.equal(r.code, 0, r.stderr);
}

test("a forged clean reply naming ../../../victim deletes nothing outside .slurmray/", async () => {
  const root = scratchDir("sr-forged-");
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(recordsDir(root), { recursive: true });
  const victim = join(root, "victim.json");
  writeFileSync(victim, "{}");
  const forged = Object.assign(Object.create(local) as Transport, {
    script: async () => ({ code: 0, stdout: "@@slurmray:retention:begin@@\n4\t../../../victim\n4\t../../victim\n4\t/abs\n@@slurmray:retention:end@@\n", stderr: "" }),
  });
  const result = await cleanJobDirs(forged, { jobsDir: "/nowhere", olderThanDays: 7, activeJobIds: [] });
  for (const id of result.removed) removeJob(root, id); // what `slurmray clean` does with the reply
  assert.deepEqual(result.removed, []);
  for (const id of ["../victim", "../../victim"]) removeJob(root, id);
  assert.ok(existsSync(victim));
});

test("when the scheduler cannot say which jobs are alive, nothing is removed", async () => {
  const dir = scratchDir("sr-live-");
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  await agedDirs(local, dir, ["a", "b"]);
  await assert.rejects(cleanJobDirs(local, { jobsDir: dir, olderThanDays: 7, activeJobIds: [], liveJobsCommand: "exit 1" }), /nothing was removed/);
  assert.ok(existsSync(join(dir, "a")) && existsSync(join(dir, "b")));
  const r = await cleanJobDirs(local, { jobsDir: dir, olderThanDays: 0, activeJobIds: [], liveJobsCommand: "echo b" });
  assert.deepEqual(r.removed, ["a"], "--older-than 0 still keeps what the scheduler holds");
});

test("retention keeps the dir of a job pending in Slurm for longer than retention_days (one squeue, same command)", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const transport = bedTransport(tb);
  cleanups.push(() => transport.shutdown());
  const project = `trust-ret-${process.pid}`;
  const pendingId = "20261120-000000-aaaaaa";
  const home = (await transport.exec(["sh", "-c", 'printf %s "$HOME"'])).stdout;
  const dir = `${home}/.slurmray-test-${project}/jobs`;
  cleanups.push(async () => void (await transport.exec(["rm", "-rf", "--", `${home}/.slurmray-test-${project}`])));
  // Held far in the future: pending all along, as a job waiting a week in a busy queue would be.
  const sbatch = await transport.exec(["sbatch", "--parsable", "-p", "debug", "-o", "/dev/null", "--begin=now+7days", `--job-name=slurmray-${project}-${pendingId}`, "--wrap", "true"]);
  assert.equal(sbatch.code, 0, sbatch.stderr);
  const slurmId = sbatch.stdout.trim();
  cleanups.push(async () => void (await transport.exec(["scancel", slurmId])));
  await agedDirs(transport, dir, [pendingId, "20261120-000000-bbbbbb"]);

  const before = transport.commandCount;
  const r = await cleanJobDirs(transport, { jobsDir: dir, olderThanDays: 7, activeJobIds: [], liveJobsCommand: liveJobsCommand(project) });
  assert.equal(transport.commandCount - before, 1);
  assert.deepEqual(r.removed, ["20261120-000000-bbbbbb"]);
  assert.equal((await transport.exec(["test", "-d", `${dir}/${pendingId}`])).code, 0, "the pending job's dir stays");
});

test("retention_days = 0 in slurmray.toml is refused with exit 2 naming the key", async () => {
  const cwd = tempProject({ "slurmray.toml": "[project]\nretention_days = 0\n" });
  cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
  const r = await runCli(["clean"], { cwd });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /retention_days: must be at least 1, got 0/);
});
