// Through the CLI: a corrupt record is named with its fix while `jobs` still lists the others.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { jobsDir } from "../../../src/jobs/registry.js";
import { runCli, tempProject } from "../../helpers/cli.js";
import { slurmJob } from "../../unit/slurm/job.js";

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

test("jobs lists the valid records and warns about the corrupt one; status of it names the file and the fix", async () => {
  const cwd = tempProject({});
  roots.push(cwd);
  mkdirSync(jobsDir(cwd), { recursive: true });
  const good = slurmJob({ id: "20261124-135501-aaaaaa", kind: "local", target: "local", state: "COMPLETED", schedulerId: "4242:1" });
  writeFileSync(join(jobsDir(cwd), `${good.id}.json`), JSON.stringify(good));
  const corrupt = join(jobsDir(cwd), "20261124-135502-bbbbbb.json");
  writeFileSync(corrupt, '{"id": "20261124-135502-bbbbbb", "state": "RUNN');

  const jobs = await runCli(["jobs"], { cwd });
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.match(jobs.stdout, /20261124-135501-aaaaaa/);
  assert.match(jobs.stderr, new RegExp(`warning skipped: the job record ${corrupt} is not valid JSON\\. Delete it`));
  assert.doesNotMatch(jobs.stderr, /SyntaxError/);

  const status = await runCli(["status", "20261124-135502"], { cwd });
  assert.equal(status.code, 2);
  assert.match(status.stderr, /20261124-135502-bbbbbb\.json is not valid JSON\. Delete it \(rm .*\) or restore it/);
});
