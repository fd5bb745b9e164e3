// `slurmray clean`: remove job dirs older than retention_days (or --older-than) on a target, in one remote
// command, never touching active jobs; the local records of removed jobs go with them. Then the project's
// env generations that no pending or running job uses (one more command, plus the backend's when some
// job record is not final).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { cleanJobDirs, type RetentionResult } from "../codesync/retention.js";
import type { LoadedConfig } from "../config/load.js";
import type { ConnectOptions } from "./connect.js";
import { jobsDir, listJobs } from "./registry.js";
import { openTarget, type TargetSession } from "./session.js";
import { envsInUse } from "./env-use.js";
import { envsDirOf, type RemoteLayout } from "./remote-paths.js";
import { parseRetired, retireEnvsScript } from "../envsync/generations.js";
import { RemoteCommandError } from "../util/errors.js";
import { isFinal } from "../model/job.js";

export async function cleanTarget(
  config: LoadedConfig,
  name: string | undefined,
  olderThanDays: number | undefined,
  connect: ConnectOptions = {},
): Promise<RetentionResult & { envsRemoved: string[]; target: string }> {
  const session = await openTarget(config, name, connect);
  const target = session.target.name;
  const activeJobIds = listJobs(config.root)
    .filter((job) => job.target === target && !isFinal(job.state))
    .map((job) => job.id);
  const dir = session.layout ? session.layout.jobsDir : jobsDir(config.root);
  const result = await cleanJobDirs(session.transport, { jobsDir: dir, olderThanDays: olderThanDays ?? config.project.retention_days ?? 7, activeJobIds });
  for (const id of result.removed) rmSync(join(jobsDir(config.root), `${id}.json`), { force: true });
  const envsRemoved = session.layout ? await retireEnvs(session, session.layout) : [];
  return { ...result, envsRemoved, target };
}

/** Removes the project's env generations that are not current and that no pending or running job uses. */
async function retireEnvs(session: TargetSession, layout: RemoteLayout): Promise<string[]> {
  const keep = await envsInUse(session, null);
  const script = retireEnvsScript(envsDirOf(layout), session.config.projectName, keep);
  const { code, stdout, stderr } = await session.transport.script(script);
  if (code !== 0) throw new RemoteCommandError("Removing envs no job uses", "sh -s (env retirement)", code, stderr);
  return parseRetired(stdout);
}
