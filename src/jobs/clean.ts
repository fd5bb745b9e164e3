// `slurmray clean`: remove job dirs older than retention_days (or --older-than) on a target, in one remote
// command, never touching live jobs (the registry's, and those the scheduler still holds); the local records
// of removed jobs go with them.
import { cleanJobDirs, type RetentionResult } from "../codesync/retention.js";
import type { LoadedConfig } from "../config/load.js";
import type { ConnectOptions } from "./connect.js";
import { activeJobIds, jobsDir, removeJob } from "./registry.js";
import { openTarget } from "./session.js";

export async function cleanTarget(config: LoadedConfig, name: string | undefined, olderThanDays: number | undefined, connect: ConnectOptions = {}): Promise<RetentionResult & { target: string }> {
  const session = await openTarget(config, name, connect);
  const target = session.target.name;
  const dir = session.layout ? session.layout.jobsDir : jobsDir(config.root);
  const result = await cleanJobDirs(session.transport, {
    jobsDir: dir,
    olderThanDays: olderThanDays ?? config.project.retention_days ?? 7,
    activeJobIds: activeJobIds(config.root, target),
    liveJobsCommand: session.backend.liveJobsCommand(config.projectName) ?? undefined,
  });
  for (const id of result.removed) removeJob(config.root, id);
  return { ...result, target };
}
