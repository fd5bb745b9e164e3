// A target session: the backend, transport and job-file access for one target, and how to watch a job
// there. Every command on existing jobs (status, logs, attach, cancel) and `run` go through one.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LocalBackend } from "../backends/local/index.js";
import { SlurmBackend, type SlurmTargetOptions, slurmWatcher } from "../backends/slurm/index.js";
import type { Backend } from "../backends/types.js";
import type { WatchRequest, WatchResult } from "../backends/watch/types.js";
import type { LoadedConfig } from "../config/load.js";
import type { SlurmTargetConfig } from "../config/schema.js";
import { type ResolvedTarget, resolveTarget } from "../config/target.js";
import { runtimeHash } from "../remote/index.js";
import type { Transport } from "../transport/types.js";
import { InputError, RemoteCommandError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { type ConnectOptions, transportFor } from "./connect.js";
import { type JobFiles, localFiles, remoteFiles } from "./files.js";
import { localWatcher } from "./local-watch.js";
import { STATE_DIR } from "./registry.js";
import { absoluteBaseDir, remoteBaseDir, remoteLayout, type RemoteLayout } from "./remote-paths.js";
import type { JobRecord } from "./types.js";

/** The files shipped into <base_dir>/runtime/<hash>/ on remote targets. */
export const RUNTIME_FILES = ["runner.py", "ray_cluster.py"] as const;

export type { WatchRequest, WatchResult } from "../backends/watch/types.js";

export interface TargetSession {
  config: LoadedConfig;
  target: ResolvedTarget;
  transport: Transport;
  backend: Backend;
  files: JobFiles;
  /** The remote layout; null on the local target. */
  layout: RemoteLayout | null;
  /** Follows a job to its end: its log as it arrives, then its final status and outcome. */
  watch(job: JobRecord, request: WatchRequest): Promise<WatchResult>;
}

export function cacheDir(config: LoadedConfig): string {
  return join(config.root, STATE_DIR, "cache");
}

/** The remote home, asked once per target and kept in the local cache (so warm runs spend no command on it). */
async function remoteHome(config: LoadedConfig, target: ResolvedTarget, transport: Transport): Promise<string> {
  const file = join(cacheDir(config), target.name, "remote.json");
  const key = transport.description;
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, "utf8")) as { key?: string; home?: string };
    if (cached.key === key && cached.home) return cached.home;
  }
  const result = await transport.exec(["sh", "-c", 'printf %s "$HOME"']);
  if (result.code !== 0 || !result.stdout.startsWith("/")) {
    throw new RemoteCommandError("Finding the remote home directory", "printf %s $HOME", result.code, result.stderr);
  }
  writeJsonAtomic(file, { key, home: result.stdout });
  return result.stdout;
}

function localSession(config: LoadedConfig, target: ResolvedTarget, transport: Transport): TargetSession {
  const backend = new LocalBackend(transport);
  return {
    config,
    target,
    transport,
    backend,
    files: localFiles,
    layout: null,
    watch: (job, request) => localWatcher(backend).watch(job, request),
  };
}

export function slurmOptions(t: SlurmTargetConfig): SlurmTargetOptions {
  return { partition: t.partition, account: t.account, qos: t.qos, constraint: t.constraint, modules: t.modules, extraSbatch: t.sbatch, setup: t.setup, defaults: t.defaults };
}

function slurmSession(config: LoadedConfig, target: ResolvedTarget & { config: SlurmTargetConfig }, transport: Transport, layout: RemoteLayout): TargetSession {
  const backend = new SlurmBackend(transport, { target: slurmOptions(target.config), runtimeDir: layout.runtimeDir });
  return {
    config,
    target,
    transport,
    backend,
    files: remoteFiles(transport),
    layout,
    watch: (job, request) => slurmWatcher(transport).watch(job, request),
  };
}

/**
 * The sessions opened in this process, one per project and target: a command that refreshes, reads and
 * watches a job reuses one connection (and one remote-home lookup) instead of opening one per step.
 */
const sessions = new Map<string, Promise<TargetSession>>();

/**
 * Closes the connections this process opened (an OpenSSH master stays up for its ControlPersist time, so the
 * next command reuses it; an ssh2 connection would otherwise keep the process alive).
 */
export async function closeSessions(): Promise<void> {
  const opened = await Promise.allSettled([...sessions.values()]);
  sessions.clear();
  await Promise.allSettled(opened.flatMap((s) => (s.status === "fulfilled" ? [s.value.transport.close()] : [])));
}

async function createSession(config: LoadedConfig, target: ResolvedTarget, connect: ConnectOptions): Promise<TargetSession> {
  if (target.config.kind === "server") {
    throw new InputError(`target ${JSON.stringify(target.name)} is of kind "server", which this version cannot run yet; use a slurm or the local target`);
  }
  const transport = transportFor(config, target.config, connect);
  if (target.config.kind === "local") return localSession(config, target, transport);
  try {
    const home = await remoteHome(config, target, transport);
    const base = absoluteBaseDir(remoteBaseDir(target.config), home);
    const layout = remoteLayout(base, config.projectName, runtimeHash(RUNTIME_FILES));
    return slurmSession(config, target as ResolvedTarget & { config: SlurmTargetConfig }, transport, layout);
  } catch (error) {
    await transport.close();
    throw error;
  }
}

/**
 * Opens (or reuses) the session on a target. Remote targets cost no remote command here when the remote
 * home is cached; the connection itself is made by the first command (or an explicit transport.connect()).
 */
export function openTarget(config: LoadedConfig, name?: string, connect: ConnectOptions = {}): Promise<TargetSession> {
  const target = resolveTarget(config, name);
  const key = `${config.root}\0${target.name}`;
  let session = sessions.get(key);
  if (!session) {
    session = createSession(config, target, connect);
    sessions.set(key, session);
    session.catch(() => sessions.delete(key));
  }
  return session;
}
