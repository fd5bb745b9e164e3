// `slurmray clean`: remove job dirs older than retention_days (or --older-than) on a target, and then the
// code trees and objects no job uses any more, in one remote command, never touching live jobs (the
// registry's, and those the scheduler still holds); the local records of removed jobs go with them. Then the
// project's env generations that no pending or running job uses (one more command).
import { withRuntime } from "../backends/runtime.js";
import { cleanJobDirs, type RetentionResult } from "../codesync/retention.js";
import { projectInterpreter } from "../config/interpreter.js";
import type { LoadedConfig } from "../config/load.js";
import type { ConnectOptions } from "./connect.js";
import { parseRetired, retireEnvsScript } from "../envsync/generations.js";
import { RemoteCommandError } from "../util/errors.js";
import { envsInUse } from "./env-use.js";
import { activeJobIds, jobsDir, removeJob } from "./registry.js";
import { envsDirOf, REMOTE_PYTHON, type RemoteLayout } from "./remote-paths.js";
import { localStoreDir } from "./remote-run.js";
import { openTarget, type TargetSession } from "./session.js";

export async function cleanTarget(
  config: LoadedConfig,
  name: string | undefined,
  olderThanDays: number | undefined,
  connect: ConnectOptions = {},
): Promise<RetentionResult & { envsRemoved: string[]; target: string }> {
  const session = await openTarget(config, name, connect);
  const target = session.target.name;
  const dir = session.layout ? session.layout.jobsDir : jobsDir(config.root);
  // Then the code store: trees no job dir links to and objects no tree holds, a day old.
  const store = session.layout
    ? { baseDir: session.layout.base, python: REMOTE_PYTHON }
    : { baseDir: localStoreDir(session), python: projectInterpreter(config.root, config.env, config.project.interpreter) };
  const clean = () =>
    cleanJobDirs(session.transport, {
      jobsDir: dir,
      olderThanDays: olderThanDays ?? config.project.retention_days ?? 7,
      activeJobIds: activeJobIds(config.root),
      liveJobsCommand: session.backend.liveJobsCommand(config.projectName) ?? undefined,
      store,
    });
  // Nothing is removed when the live-jobs command fails, so a missing runtime is uploaded and it runs again.
  const result = session.layout ? await withRuntime(session.transport, session.layout.runtimeDir, clean) : await clean();
  for (const id of result.removed) removeJob(config.root, id);
  const envsRemoved = session.layout ? await retireEnvs(session, session.layout) : [];
  return { ...result, envsRemoved, target };
}

/**
 * Removes the project's env generations that are not current and that no pending or running job uses; none
 * while another run holds a claim (it may be about to submit a job with one of them).
 */
async function retireEnvs(session: TargetSession, layout: RemoteLayout): Promise<string[]> {
  const inUse = await envsInUse(session, null);
  if (inUse.claimed) return [];
  const script = retireEnvsScript(envsDirOf(layout), session.config.projectName, inUse.dirs, inUse.shared);
  const { code, stdout, stderr } = await session.transport.script(script);
  if (code !== 0) throw new RemoteCommandError("Removing envs no job uses", "sh -s (env retirement)", code, stderr);
  return parseRetired(stdout);
}
