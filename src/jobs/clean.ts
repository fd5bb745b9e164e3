// `slurmray clean`: remove job dirs older than retention_days (or --older-than) on a target, and then the
// code trees and objects no job uses any more, in one remote command, never touching active jobs; the
// local records of removed jobs go with them.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { cleanJobDirs, type RetentionResult } from "../codesync/retention.js";
import { projectInterpreter } from "../config/interpreter.js";
import type { LoadedConfig } from "../config/load.js";
import type { ConnectOptions } from "./connect.js";
import { jobsDir, listJobs } from "./registry.js";
import { localStoreDir, REMOTE_PYTHON } from "./remote-run.js";
import { openTarget } from "./session.js";
import { isFinal } from "./types.js";

export async function cleanTarget(config: LoadedConfig, name: string | undefined, olderThanDays: number | undefined, connect: ConnectOptions = {}): Promise<RetentionResult & { target: string }> {
  const session = await openTarget(config, name, connect);
  const target = session.target.name;
  const activeJobIds = listJobs(config.root)
    .filter((job) => job.target === target && !isFinal(job.state))
    .map((job) => job.id);
  const dir = session.layout ? session.layout.jobsDir : jobsDir(config.root);
  // Then the code store: trees no job dir links to and objects no tree holds, a day old.
  const store = session.layout
    ? { baseDir: session.layout.base, python: REMOTE_PYTHON }
    : { baseDir: localStoreDir(session), python: projectInterpreter(config.root, config.env, config.project.interpreter) };
  const result = await cleanJobDirs(session.transport, { jobsDir: dir, olderThanDays: olderThanDays ?? config.project.retention_days ?? 7, activeJobIds, store });
  for (const id of result.removed) rmSync(join(jobsDir(config.root), `${id}.json`), { force: true });
  return { ...result, target };
}
