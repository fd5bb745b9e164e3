// The remote half of `run` (slurm targets): one batched probe, then code sync, env sync and the runtime
// files only where something changed. A warm run (nothing changed) costs: probe, submit, watch.
import { mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { checkImports, formatImportWarning } from "../codesync/imports.js";
import { sha256 } from "../codesync/manifest.js";
import { fetchOutputs, type OutputsResult } from "../codesync/outputs.js";
import { codeProbeSnippet, parseCodeProbe } from "../codesync/remote.js";
import { retentionSnippet } from "../codesync/retention.js";
import { lastCodeId } from "../codesync/sent-state.js";
import { type SyncOptions, type SyncResult, syncCode } from "../codesync/sync.js";
import { projectInterpreter } from "../config/interpreter.js";
import { isRemoteTarget } from "../config/target.js";
import { parseEnvProbe } from "../envsync/remote-state.js";
import { type Snapshot, takeSnapshot } from "../envsync/snapshot.js";
import { type EnvReport, type EnvTarget, envProbeFor, syncEnv } from "../envsync/sync.js";
import { RUNTIME_FILES, runtimePaths, uploadRuntime } from "../backends/runtime.js";
import type { JobRecord } from "../model/job.js";
import { remoteFile } from "../remote/index.js";
import { RemoteCommandError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { fail, isObject, readCache } from "../util/json-file.js";
import { checkPrivatePaths, privatePathsSnippet } from "../util/remote-private.js";
import { sectionLines, wrapSection } from "../util/sections.js";
import { quote } from "../util/shell.js";
import { parseElementId } from "./array-record.js";
import { wantsDashboard } from "./dashboard.js";
import { entrySourceFile } from "./entry-check.js";
import { envsInUse } from "./env-use.js";
import { limitsStep } from "./limits-cache.js";
import { activeJobIds, ignoreStateDir, jobsDir } from "./registry.js";
import { absoluteBaseDir, envDirFor, REMOTE_PYTHON, type RemoteLayout } from "./remote-paths.js";
import { type RunReport, type StepObserver, timed } from "./report.js";
import { cacheDir, type TargetSession } from "./session.js";

const RUNTIME_SECTION = "runtime";
/** Retention runs at most this often per target (it is one extra remote command). */
const RETENTION_EVERY_MS = 24 * 3600 * 1000;

/** Prints the sha256 of runner.py and friends on the target, in the runtime section. */
function runtimeProbe(runtimeDir: string): string {
  return wrapSection(RUNTIME_SECTION, `sha256sum -- ${RUNTIME_FILES.map((f) => quote(`${runtimeDir}/${f}`)).join(" ")} 2>/dev/null`);
}

/** Whether the runtime files on the target have exactly the content of ours (else they are uploaded again). */
function runtimePresent(output: string, runtimeDir: string): boolean {
  const remote = new Map((sectionLines(output, RUNTIME_SECTION) ?? []).map((line) => [line.slice(66), line.slice(0, 64)]));
  return RUNTIME_FILES.every((f) => remote.get(`${runtimeDir}/${f}`) === sha256(readFileSync(remoteFile(f))));
}

/** Every path of the layout a job uses, checked to be the user's alone before any is used. */
function layoutPaths(layout: RemoteLayout, envDir: string): string[] {
  const { base } = layout;
  return [...runtimePaths(layout.runtimeDir), `${base}/projects`, layout.projectDir, layout.jobsDir, `${base}/envs`, envDir];
}

function envReportJson(env: EnvReport): RunReport["env"] {
  const { created, reused, installed, changed, skipped, unchanged, seconds } = env;
  return { created, reused, installed, changed, skipped, unchanged, seconds };
}

/** The snapshot of the project interpreter that the remote env must satisfy. */
/** `dashboard`: Ray's dashboard needs ray[default]. */
export function localSnapshot(session: TargetSession, ray: boolean, dashboard = false): Promise<Snapshot> {
  const { config } = session;
  return takeSnapshot({
    python: projectInterpreter(config.root, config.env, config.project.interpreter),
    projectRoot: config.root,
    mode: config.project.snapshot,
    strictVersions: config.project.strict_versions ?? true,
    requirementsFile: config.project.requirements,
    exclude: config.project.exclude ?? [],
    extra: ray ? [dashboard ? "ray[default]" : "ray"] : [],
    cacheDir: cacheDir(config),
  });
}

/** What the user should know about the snapshot: notes on settings, editables that are not shipped. */
export function snapshotWarnings(snapshot: Snapshot): string[] {
  const editables = snapshot.editablesOutside.map(
    (name) => `${name} is an editable install outside the project: it is not shipped; install it on the target or move it into the project`,
  );
  return [...(snapshot.notes ?? []), ...editables];
}

export function envTargetFor(session: TargetSession, snapshot: Snapshot): EnvTarget {
  const { config, target, layout } = session;
  return { cacheDir: cacheDir(config), targetKey: target.name, envDir: envDirFor(layout!, config.projectName, snapshot.pythonVersion), snapshot };
}

/** The target's env options from its config. */
export function envOptions(session: TargetSession): { strictVersions: boolean; allowPythonInstall: boolean; installUv: boolean } {
  const t = isRemoteTarget(session.target.config) ? session.target.config : null;
  return {
    strictVersions: session.config.project.strict_versions ?? true,
    allowPythonInstall: t?.allow_python_install ?? false,
    installUv: t?.install_uv ?? false,
  };
}

/** Project modules the entry imports that are not shipped: the job would fail remotely on them. */
function importWarnings(session: TargetSession, job: JobRecord, selected: string[]): string[] {
  const { config } = session;
  const file = entrySourceFile(config.root, job.spec.entry);
  if (!file) return [];
  const python = projectInterpreter(config.root, config.env, config.project.interpreter);
  return checkImports({ python, root: config.root, entryFile: file, selected, cacheDir: cacheDir(config) }).map(formatImportWarning);
}

export interface PreparedRemote {
  /** The env's python on the target (on the local target: the project interpreter). */
  python: string;
  /** The job's code tree on the target (what the job pins). */
  codeDir: string;
  /** The snapshot hash its env was synced for (remote targets; not on a dry run). */
  envHash?: string;
  /** Code files that would be sent (dry run only). */
  dryRunList: string[] | null;
  /** What the target goes on doing for this run (the code store's spare tree), awaited before the command ends. */
  background: Promise<void>;
}

/** Ships code, env and runtime for a job. Fills report.code, report.env and timings; warnings go to `warn` as they arise. */
export async function prepareRemote(
  session: TargetSession,
  job: JobRecord,
  report: RunReport,
  warn: (warning: string) => void,
  dryRun: boolean,
  signal?: AbortSignal,
  onStep: StepObserver = () => {},
): Promise<PreparedRemote> {
  const { config, transport, target } = session;
  const layout = session.layout!;
  const timings = report.timings;
  ignoreStateDir(config.root);
  onStep({ step: "connect", phase: "start", text: `connecting to ${transport.description}` });
  await timed(timings, "connect", () => transport.connect());
  onStep({ step: "connect", phase: "end", text: `connected to ${transport.description}` });
  onStep({ step: "code_sync", phase: "start", text: "code sync: comparing the project with the target" });
  const snapshot = await timed(timings, "env_sync", () => localSnapshot(session, job.spec.ray, wantsDashboard(job.spec)));
  snapshotWarnings(snapshot).forEach(warn);
  const envTarget = envTargetFor(session, snapshot);
  const limits = limitsStep(session.backend.limits, cacheDir(config), target.name);
  const lastId = lastCodeId(cacheDir(config), target.name);
  const probe = await timed(timings, "code_sync", () =>
    transport.script(
      [
        privatePathsSnippet(layout.base, layoutPaths(layout, envTarget.envDir)),
        codeProbeSnippet(layout.base, lastId),
        envProbeFor(envTarget),
        runtimeProbe(layout.runtimeDir),
        limits.snippet,
      ].join("\n"),
    ),
  );
  const codeProbe = parseCodeProbe(probe.stdout);
  if (probe.code !== 0 || !codeProbe) throw new RemoteCommandError("Reading the target's state", "sh -s (probe)", probe.code, probe.stderr);
  checkPrivatePaths(probe.stdout, transport.description);
  // A job the partition can never run is refused here, before any code or package is sent.
  limits.check(job.spec, probe.stdout);

  const code = await timed(timings, "code_sync", () => syncCode(transport, { ...codeSyncOptions(session, layout.base, REMOTE_PYTHON, dryRun), probe: codeProbe }));
  reportCode(session, job, report, code, warn);
  onStep({ step: "code_sync", phase: "end", text: `code sync: ${describeUpload(code, dryRun)}` });
  if (dryRun) return { python: `${parseEnvProbe(probe.stdout).envDir ?? envTarget.envDir}/bin/python`, codeDir: code.treeDir, dryRunList: code.dryRunList ?? [], background: code.background };

  // Before the env: a change asks the backend's live-jobs command, which on a server runs the runtime's queue.py.
  if (!runtimePresent(probe.stdout, layout.runtimeDir)) {
    await timed(timings, "code_sync", () => uploadRuntime(transport, layout.runtimeDir, true));
  }
  onStep({ step: "env_sync", phase: "start", text: `env sync: ${envTarget.envDir}` });
  const env = await timed(timings, "env_sync", () =>
    syncEnv(transport, {
      ...envTarget,
      ...envOptions(session),
      exact: false,
      forceReinstall: false,
      probe: probe.stdout,
      envsInUse: () => envsInUse(session, envTarget.envDir, job.id),
      signal,
      onInstallProgress: (text) => onStep({ step: "env_sync", phase: "update", text: `env sync: ${text}` }),
    }),
  );
  report.env = envReportJson(env);
  (env.warnings ?? []).forEach(warn);
  onStep({ step: "env_sync", phase: "end", text: `env sync: ${describeEnv(env)}` });
  await cleanOldJobs(session, job);
  // The exact env generation this job runs with: a later change builds the next one beside it.
  return { python: `${env.envDir}/bin/python`, codeDir: code.treeDir, envHash: snapshot.hash, dryRunList: null, background: code.background };
}

/** What a job pins from its preparation: its env (its python and the snapshot it holds) and its code tree. */
export function pinPrepared(job: JobRecord, prepared: PreparedRemote): void {
  job.python = prepared.python;
  job.codeDir = prepared.codeDir;
  if (prepared.envHash) job.envHash = prepared.envHash;
  else delete job.envHash;
}

function codeSyncOptions(session: TargetSession, baseDir: string, python: string, dryRun: boolean): SyncOptions {
  const { config, target } = session;
  return {
    root: config.root,
    baseDir,
    python,
    cacheDir: cacheDir(config),
    targetKey: target.name,
    files: config.project.files,
    exclude: config.project.exclude,
    limits: {
      totalBytes: config.project.max_upload_mb ? config.project.max_upload_mb * 1024 * 1024 : undefined,
      fileBytes: config.project.max_file_mb ? config.project.max_file_mb * 1024 * 1024 : undefined,
    },
    dryRun,
    background: true,
  };
}

function reportCode(session: TargetSession, job: JobRecord, report: RunReport, code: SyncResult, warn: (warning: string) => void): void {
  report.code = { files_uploaded: code.files_uploaded, bytes_uploaded: code.bytes_uploaded, seconds: code.seconds };
  [...code.warnings, ...importWarnings(session, job, code.selected)].forEach(warn);
}

/** The local target's code store: its base_dir, else the user's cache dir; shared by all projects, like a remote base_dir. */
export function localStoreDir(session: TargetSession): string {
  const configured = isRemoteTarget(session.target.config) ? undefined : session.target.config.base_dir;
  if (configured) return absoluteBaseDir(configured, homedir());
  return join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "slurmray");
}

/**
 * Local jobs run from a code tree too, so that an edit after `run` never reaches a job already started.
 * The job dir's `code` link pins the tree; the store's projects/<id>/jobs/<job> link to the job dir is
 * what the store's collection counts as a reference (it dangles once the job dir is cleaned).
 * Returns the tree, or the dry run's list.
 */
export async function prepareLocal(session: TargetSession, job: JobRecord, report: RunReport, warn: (warning: string) => void, dryRun: boolean): Promise<PreparedRemote> {
  const base = localStoreDir(session);
  ignoreStateDir(session.config.root);
  const code = await timed(report.timings, "code_sync", () => syncCode(session.transport, codeSyncOptions(session, base, job.python, dryRun)));
  reportCode(session, job, report, code, warn);
  if (dryRun) return { python: job.python, codeDir: code.treeDir, dryRunList: code.dryRunList ?? [], background: code.background };
  mkdirSync(job.remoteDir, { recursive: true, mode: 0o700 });
  relink(code.treeDir, join(job.remoteDir, "code"));
  const refs = join(base, "projects", session.config.projectName, "jobs");
  mkdirSync(refs, { recursive: true, mode: 0o700 });
  relink(job.remoteDir, join(refs, job.id));
  return { python: job.python, codeDir: code.treeDir, dryRunList: null, background: code.background };
}

/** A symlink at `path` to `target`, replacing the one a retried job had (like `ln -sfn`). */
function relink(target: string, path: string): void {
  rmSync(path, { force: true });
  symlinkSync(target, path);
}

/** A dry run sends nothing: it counts what it would send (files, and removals). */
function describeUpload(code: SyncResult, dryRun: boolean): string {
  if (dryRun) return code.dryRunList?.length ? `${code.dryRunList.length} change(s) would be sent` : "the target is up to date";
  if (code.files_uploaded === 0) return "the target is up to date";
  const bytes = code.bytes_uploaded;
  const size = bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${code.files_uploaded} file(s), ${size} sent`;
}

function describeEnv(env: EnvReport): string {
  const changes = env.installed.length + env.changed.length;
  if (changes === 0 && !env.created) return "in step, nothing installed";
  const installed = env.installed.length ? `, installed ${env.installed.length} requirement(s): ${env.installed.slice(0, 5).join(", ")}${env.installed.length > 5 ? ", …" : ""}` : "";
  return `${env.created ? "created" : "updated"}${installed}${env.changed.length ? `, ${env.changed.length} changed` : ""}`;
}

/** Opportunistic retention: at most once a day per target, in the background on the target. */
async function cleanOldJobs(session: TargetSession, job: JobRecord): Promise<void> {
  const { config, target, transport } = session;
  const stampFile = join(cacheDir(config), target.name, "retention.json");
  const last = readCache(stampFile, (v) => (isObject(v) && typeof v.at === "number" ? v.at : fail("expected {at}"))) ?? 0;
  if (Date.now() - last < RETENTION_EVERY_MS) return;
  const layout = session.layout!;
  const snippet = retentionSnippet(
    {
      jobsDir: layout.jobsDir,
      olderThanDays: config.project.retention_days ?? 7,
      activeJobIds: [job.id, ...activeJobIds(config.root)],
      liveJobsCommand: session.backend.liveJobsCommand(config.projectName) ?? undefined,
      store: { baseDir: layout.base, python: REMOTE_PYTHON },
    },
    true,
  );
  await transport.script(snippet);
  writeJsonAtomic(stampFile, { at: Date.now() });
}

/**
 * Where a job's outputs come back by default, next to its local record: .slurmray/jobs/<id>/outputs; an array's
 * element N: .slurmray/jobs/<id>/N/outputs, where the local target's elements write theirs.
 */
export function localOutputsDir(session: TargetSession, job: JobRecord): string {
  const element = parseElementId(job.id);
  return element ? join(jobsDir(session.config.root), element.arrayId, String(element.index), "outputs") : join(jobsDir(session.config.root), job.id, "outputs");
}

/** The outputs of an array's elements `indices` into .slurmray/jobs/<id>/<index>/outputs, in ONE command. */
export async function fetchArrayOutputs(session: TargetSession, array: JobRecord, indices: readonly number[], onProgress?: (message: string) => void): Promise<OutputsResult> {
  const subdirs = indices.map((index) => `${index}/outputs`);
  return fetchOutputs(session.transport, REMOTE_PYTHON, array.remoteDir, join(jobsDir(session.config.root), array.id), onProgress, subdirs);
}

/**
 * Brings a job's outputs/ into dir (default: .slurmray/jobs/<id>/outputs), only files that changed. A
 * local job writes them there itself; another dir gets a copy the same way a remote job's come back.
 */
export async function fetchJobOutputs(session: TargetSession, job: JobRecord, dir = localOutputsDir(session, job), onProgress?: (message: string) => void): Promise<OutputsResult> {
  const python = session.layout ? REMOTE_PYTHON : job.python;
  const from = `${job.remoteDir}/outputs`;
  if (!session.layout && from === dir) return { dir, files: 0, bytes: 0 };
  return fetchOutputs(session.transport, python, from, dir, onProgress);
}
