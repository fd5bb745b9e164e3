// `slurmray env diff` and `env sync`: the environment engine on its own, outside a run.
import { diffEnv, type EnvDiff, type EnvReport, syncEnv } from "../envsync/sync.js";
import type { LoadedConfig } from "../config/load.js";
import { InputError } from "../util/errors.js";
import { checkPrivatePaths, privatePathsSnippet } from "../util/remote-private.js";
import type { ConnectOptions } from "./connect.js";
import { envsInUse } from "./env-use.js";
import { envOptions, snapshotWarnings, envTargetFor, localSnapshot } from "./remote-run.js";
import { openTarget, type TargetSession } from "./session.js";

export interface EnvCommandResult<T> {
  target: string;
  env_dir: string;
  warnings: string[];
  result: T;
}

async function remoteSession(config: LoadedConfig, name: string | undefined, connect: ConnectOptions): Promise<TargetSession> {
  const session = await openTarget(config, name, connect);
  if (!session.layout) {
    throw new InputError(`target ${JSON.stringify(session.target.name)} is local: jobs there use your project interpreter as it is, so there is no env to sync; pass --target NAME`);
  }
  await session.transport.connect();
  return session;
}

/** The env and the dir above it must be the user's alone before the env's python runs (a shared base_dir). */
async function checkEnvPrivate(session: TargetSession, envDir: string): Promise<void> {
  const { base } = session.layout!;
  const result = await session.transport.script(privatePathsSnippet(base, [`${base}/envs`, envDir]));
  checkPrivatePaths(result.stdout, session.transport.description);
}

export async function envDiff(config: LoadedConfig, name: string | undefined, connect: ConnectOptions = {}): Promise<EnvCommandResult<EnvDiff>> {
  const session = await remoteSession(config, name, connect);
  const snapshot = await localSnapshot(session, config.project.ray ?? false);
  const target = envTargetFor(session, snapshot);
  await checkEnvPrivate(session, target.envDir);
  const result = await diffEnv(session.transport, { ...target, ...envOptions(session), exact: false });
  return { target: session.target.name, env_dir: target.envDir, warnings: snapshotWarnings(snapshot), result };
}

export async function envSync(
  config: LoadedConfig,
  name: string | undefined,
  options: { forceReinstall: boolean; exact: boolean; signal?: AbortSignal; onInstallProgress?: (text: string) => void },
  connect: ConnectOptions = {},
): Promise<EnvCommandResult<EnvReport>> {
  const session = await remoteSession(config, name, connect);
  const snapshot = await localSnapshot(session, config.project.ray ?? false);
  const target = envTargetFor(session, snapshot);
  await checkEnvPrivate(session, target.envDir);
  const result = await syncEnv(session.transport, { ...target, ...envOptions(session), ...options, envsInUse: () => envsInUse(session, target.envDir) });
  const warnings = [...snapshotWarnings(snapshot), ...(result.warnings ?? [])];
  // The env's current generation (see envsync/generations.ts).
  return { target: session.target.name, env_dir: result.envDir, warnings, result };
}
