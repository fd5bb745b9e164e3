// The remote half of `run` (slurm targets): one batched probe, then code sync, env sync and the runtime
// files only where something changed. A warm run (nothing changed) costs: probe, submit, watch.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { checkImports, formatImportWarning } from "../codesync/imports.js";
import { codeProbeSnippet, parseCodeProbe } from "../codesync/remote.js";
import { retentionSnippet } from "../codesync/retention.js";
import { syncCode } from "../codesync/sync.js";
import { projectInterpreter } from "../config/interpreter.js";
import { type Snapshot, takeSnapshot } from "../envsync/snapshot.js";
import { parseEnvProbe } from "../envsync/remote-state.js";
import { envProbeFor, type EnvReport, type EnvTarget, syncEnv } from "../envsync/sync.js";
import { remoteFile } from "../remote/index.js";
import { uploadFiles } from "../transport/files.js";
import { RemoteCommandError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { sectionLines, wrapSection } from "../util/sections.js";
import { quote } from "../util/shell.js";
import { entrySourceFile } from "./entry-check.js";
import { envsInUse } from "./env-use.js";
import { limitsStep } from "./limits-cache.js";
import { envDirFor } from "./remote-paths.js";
import { type RunReport, timed } from "./report.js";
import { cacheDir, RUNTIME_FILES, type TargetSession } from "./session.js";
import type { JobRecord } from "../model/job.js";

const RUNTIME_SECTION = "runtime";
/** Retention runs at most this often per target (it is one extra remote command). */
const RETENTION_EVERY_MS = 24 * 3600 * 1000;

/** Prints "present" or "missing" in the runtime section: whether runner.py and friends are on the target. */
function runtimeProbe(runtimeDir: string): string {
  const files = RUNTIME_FILES.map((f) => `[ -f ${quote(`${runtimeDir}/${f}`)} ]`).join(" && ");
  return wrapSection(RUNTIME_SECTION, `if ${files}; then echo present; else echo missing; fi`);
}

function envReportJson(env: EnvReport): RunReport["env"] {
  const { created, reused, installed, changed, skipped, unchanged, seconds } = env;
  return { created, reused, installed, changed, skipped, unchanged, seconds };
}

/** The snapshot of the project interpreter that the remote env must satisfy. */
export function localSnapshot(session: TargetSession, ray: boolean): Promise<Snapshot> {
  const { config } = session;
  return takeSnapshot({
    python: projectInterpreter(config.root, config.env, config.project.interpreter),
    projectRoot: config.root,
    mode: config.project.snapshot,
    strictVersions: config.project.strict_versions ?? true,
    requirementsFile: config.project.requirements,
    exclude: config.project.exclude ?? [],
    extra: ray ? ["ray"] : [],
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
  const t = "host" in session.target.config ? session.target.config : null;
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
  return checkImports({ python, root: config.root, entryFile: file, selected }).map(formatImportWarning);
}

export interface PreparedRemote {
  /** The env's python on the target. */
  python: string;
  /** Code files that would be sent (dry run only). */
  dryRunList: string[] | null;
}

/** Ships code, env and runtime for a job. Fills report.code, report.env and timings; warnings go to `warn` as they arise. */
export async function prepareRemote(
  session: TargetSession,
  job: JobRecord,
  report: RunReport,
  warn: (warning: string) => void,
  dryRun: boolean,
  signal?: AbortSignal,
): Promise<PreparedRemote> {
  const { config, transport, target } = session;
  const layout = session.layout!;
  const timings = report.timings;
  await timed(timings, "connect", () => transport.connect());
  const snapshot = await timed(timings, "env_sync", () => localSnapshot(session, job.spec.ray));
  snapshotWarnings(snapshot).forEach(warn);
  const envTarget = envTargetFor(session, snapshot);
  const limits = limitsStep(session.backend.limits, cacheDir(config), target.name);
  const probe = await timed(timings, "code_sync", () =>
    transport.script([codeProbeSnippet(layout.codeDir), envProbeFor(envTarget), runtimeProbe(layout.runtimeDir), limits.snippet].join("\n")),
  );
  if (probe.code !== 0) throw new RemoteCommandError("Reading the target's state", "sh -s (probe)", probe.code, probe.stderr);
  // A job the partition can never run is refused here, before any code or package is sent.
  limits.check(job.spec, probe.stdout);

  const code = await timed(timings, "code_sync", () =>
    syncCode(transport, {
      root: config.root,
      codeDir: layout.codeDir,
      cacheDir: cacheDir(config),
      targetKey: target.name,
      files: config.project.files,
      exclude: config.project.exclude,
      limits: {
        totalBytes: config.project.max_upload_mb ? config.project.max_upload_mb * 1024 * 1024 : undefined,
        fileBytes: config.project.max_file_mb ? config.project.max_file_mb * 1024 * 1024 : undefined,
      },
      dryRun,
      remoteStamp: parseCodeProbe(probe.stdout),
    }),
  );
  report.code = { files_uploaded: code.files_uploaded, bytes_uploaded: code.bytes_uploaded, seconds: code.seconds };
  [...code.warnings, ...importWarnings(session, job, code.selected)].forEach(warn);
  if (dryRun) return { python: `${parseEnvProbe(probe.stdout).envDir ?? envTarget.envDir}/bin/python`, dryRunList: code.dryRunList ?? [] };

  const env = await timed(timings, "env_sync", () =>
    syncEnv(transport, {
      ...envTarget,
      ...envOptions(session),
      exact: false,
      forceReinstall: false,
      probe: probe.stdout,
      envsInUse: () => envsInUse(session, envTarget.envDir),
      signal,
    }),
  );
  report.env = envReportJson(env);

  if (sectionLines(probe.stdout, RUNTIME_SECTION)?.[0] !== "present") {
    await timed(timings, "code_sync", () => uploadFiles(transport, dirname(remoteFile("runner.py")), RUNTIME_FILES, layout.runtimeDir));
  }
  await cleanOldJobs(session, job);
  // The exact env generation this job runs with: a later change builds the next one beside it.
  return { python: `${env.envDir}/bin/python`, dryRunList: null };
}

/** Opportunistic retention: at most once a day per target, in the background on the target. */
async function cleanOldJobs(session: TargetSession, job: JobRecord): Promise<void> {
  const { config, target, transport } = session;
  const stampFile = join(cacheDir(config), target.name, "retention.json");
  const last = existsSync(stampFile) ? (JSON.parse(readFileSync(stampFile, "utf8")) as { at: number }).at : 0;
  if (Date.now() - last < RETENTION_EVERY_MS) return;
  const snippet = retentionSnippet({ jobsDir: session.layout!.jobsDir, olderThanDays: config.project.retention_days ?? 7, activeJobIds: [job.id] }, true);
  await transport.script(snippet);
  writeJsonAtomic(stampFile, { at: Date.now() });
}
