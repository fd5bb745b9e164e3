// `slurmray clean`: remove job dirs older than retention_days (or --older-than) on a target, in one remote
// command, never touching active jobs; the local records of removed jobs go with them.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { cleanJobDirs, type RetentionResult } from "../codesync/retention.js";
import type { LoadedConfig } from "../config/load.js";
import type { ConnectOptions } from "./connect.js";
import { jobsDir, listJobs } from "./registry.js";
import { openTarget } from "./session.js";
import { isFinal } from "../model/job.js";

export async function cleanTarget(config: LoadedConfig, name: string | undefined, olderThanDays: number | undefined, connect: ConnectOptions = {}): Promise<RetentionResult & { target: string }> {
  const session = await openTarget(config, name, connect);
  const target = session.target.name;
  const activeJobIds = listJobs(config.root)
    .filter((job) => job.target === target && !isFinal(job.state))
    .map((job) => job.id);
  const dir = session.layout ? session.layout.jobsDir : jobsDir(config.root);
  const result = await cleanJobDirs(session.transport, { jobsDir: dir, olderThanDays: olderThanDays ?? config.project.retention_days ?? 7, activeJobIds });
  for (const id of result.removed) rmSync(join(jobsDir(config.root), `${id}.json`), { force: true });
  return { ...result, target };
}
