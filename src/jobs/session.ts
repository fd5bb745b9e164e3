// A target session: the backend, transport and job-file access for one target, and how to watch a job
// there. Every command on existing jobs (status, logs, attach, cancel) and `run` go through one.
import { join } from "node:path";
import type { JobFiles } from "../backends/job-files.js";
import { kindInfo } from "../backends/registry.js";
import { RUNTIME_FILES } from "../backends/runtime.js";
import type { Backend, WatchRequest, WatchResult } from "../backends/types.js";
import type { LoadedConfig } from "../config/load.js";
import { isRemoteTarget, type ResolvedTarget, type ResourceFlags, resolveTarget } from "../config/target.js";
import type { JobRecord, JobSpec } from "../model/job.js";
import { runtimeHash } from "../remote/index.js";
import type { Transport } from "../transport/types.js";
import { RemoteCommandError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { isObject, readCache } from "../util/json-file.js";
import { type ConnectOptions, transportFor } from "./connect.js";
import { STATE_DIR } from "./registry.js";
import { absoluteBaseDir, remoteBaseDir, remoteLayout, type RemoteLayout } from "./remote-paths.js";

export type { WatchRequest, WatchResult } from "../backends/types.js";

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

function checkHomeCache(value: unknown): { key: string; home: string } {
  if (!isObject(value) || typeof value.key !== "string" || typeof value.home !== "string" || !value.home.startsWith("/")) {
    throw new Error("expected {key, home}");
  }
  return { key: value.key, home: value.home };
}

/** The remote home, asked once per target and kept in the local cache (so warm runs spend no command on it). */
async function remoteHome(config: LoadedConfig, target: ResolvedTarget, transport: Transport): Promise<string> {
  const file = join(cacheDir(config), target.name, "remote.json");
  const key = transport.description;
  const cached = readCache(file, checkHomeCache);
  if (cached?.key === key) return cached.home;
  const result = await transport.exec(["sh", "-c", 'printf %s "$HOME"']);
  if (result.code !== 0 || !result.stdout.startsWith("/")) {
    throw new RemoteCommandError("Finding the remote home directory", "printf %s $HOME", result.code, result.stderr);
  }
  writeJsonAtomic(file, { key, home: result.stdout });
  return result.stdout;
}

function newSession(config: LoadedConfig, target: ResolvedTarget, transport: Transport, layout: RemoteLayout | null): TargetSession {
  const info = kindInfo(target.config.kind);
  const backend = info.create({ targetName: target.name, target: target.config, transport, runtimeDir: layout?.runtimeDir ?? null });
  return { config, target, transport, backend, files: backend.files, layout, watch: (job, request) => backend.watch(job, request) };
}

/** Refuses a job the target could never run, before any connection (exit 2). */
export function checkJob(target: ResolvedTarget, spec: JobSpec): void {
  kindInfo(target.config.kind).check(target.config, spec, target.name);
}

/** A warning when resources were asked for that this target does not apply (the local target's --mem), or null. */
export function unappliedResources(target: ResolvedTarget, asked: ResourceFlags): string | null {
  const unapplied = kindInfo(target.config.kind).unapplied;
  const flags = (unapplied?.resources ?? []).filter((key) => asked[key] !== undefined).map((key) => `--${key}`);
  if (!unapplied || flags.length === 0) return null;
  return `${flags.join(", ")}: not applied on target ${target.name} (${unapplied.because})`;
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
  const transport = transportFor(config, target.config, connect);
  if (!isRemoteTarget(target.config)) return newSession(config, target, transport, null);
  try {
    const home = await remoteHome(config, target, transport);
    const base = absoluteBaseDir(remoteBaseDir(target.config), home);
    return newSession(config, target, transport, remoteLayout(base, config.projectName, runtimeHash(RUNTIME_FILES)));
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
