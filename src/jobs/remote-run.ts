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
import { envProbeFor, type EnvReport, type EnvTarget, syncEnv } from "../envsync/sync.js";
import { remoteFile } from "../remote/index.js";
import { uploadFiles } from "../transport/files.js";
import { RemoteCommandError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { sectionLines, wrapSection } from "../util/sections.js";
import { quote } from "../util/shell.js";
import { envDirFor } from "./remote-paths.js";
import { type RunReport, timed } from "./report.js";
import { cacheDir, RUNTIME_FILES, type TargetSession } from "./session.js";
import type { JobRecord } from "./types.js";

const RUNTIME_SECTION = "runtime";
/** Retention runs at most this often per target (it is one extra remote command). */
const RETENTION_EVERY_MS = 24 * 3600 * 1000;

/** Prints "present" or "missing" in the runtime section: whether runner.py and friends are on the target. */
function runtimeProbe(runtimeDir: string): string {
  const files = RUNTIME_FILES.map((f) => `[ -f ${quote(`${runtimeDir}/${f}`)} ]`).join(" && ");
  return wrapSection(RUNTIME_SECTION, `if ${files}; then echo present; else echo missing; fi`);
}

function envReportJson(env: EnvReport): RunReport["env"] {
  return { created: env.created, reused: env.reused, installed: env.installed, changed: env.changed, unchanged: env.unchanged, seconds: env.seconds };
}

/** The snapshot of the project interpreter that the remote env must satisfy. */
export function localSnapshot(session: TargetSession, ray: boolean): Promise<Snapshot> {
  const { config } = session;
  return takeSnapshot({
    python: projectInterpreter(config.root, config.env, config.project.interpreter),
    projectRoot: config.root,
    mode: config.project.snapshot ?? "top-level",
    requirementsFile: config.project.requirements,
    exclude: config.project.exclude ?? [],
    extra: ray ? ["ray"] : [],
    cacheDir: cacheDir(config),
  });
}

export function editableWarnings(snapshot: Snapshot): string[] {
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
  const t = session.target.config.kind === "local" ? null : session.target.config;
  return {
    strictVersions: session.config.project.strict_versions ?? true,
    allowPythonInstall: t?.allow_python_install ?? false,
    installUv: t?.install_uv ?? false,
  };
}

/** The file the entry starts from, relative to the project root, when it is a project file. */
function entryFile(root: string, entry: string): string | null {
  const target = entry.includes(":") ? entry.slice(0, entry.lastIndexOf(":")) : entry;
  const file = target.endsWith(".py") ? target : `${target.replaceAll(".", "/")}.py`;
  return existsSync(join(root, file)) ? file : null;
}

/** Project modules the entry imports that are not shipped: the job would fail remotely on them. */
function importWarnings(session: TargetSession, job: JobRecord, selected: string[]): string[] {
  const { config } = session;
  const file = entryFile(config.root, job.spec.entry);
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

/** Ships code, env and runtime for a job. Fills report.code, report.env, timings and warnings. */
export async function prepareRemote(session: TargetSession, job: JobRecord, report: RunReport, dryRun: boolean, signal?: AbortSignal): Promise<PreparedRemote> {
  const { config, transport, target } = session;
  const layout = session.layout!;
  const timings = report.timings;
  await timed(timings, "connect", () => transport.connect());
  const snapshot = await timed(timings, "env_sync", () => localSnapshot(session, job.spec.ray));
  report.warnings.push(...editableWarnings(snapshot));
  const envTarget = envTargetFor(session, snapshot);
  const probe = await timed(timings, "code_sync", () =>
    transport.script([codeProbeSnippet(layout.codeDir), envProbeFor(envTarget), runtimeProbe(layout.runtimeDir)].join("\n")),
  );
  if (probe.code !== 0) throw new RemoteCommandError("Reading the target's state", "sh -s (probe)", probe.code, probe.stderr);

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
  report.warnings.push(...code.warnings, ...importWarnings(session, job, code.selected));
  const python = `${envTarget.envDir}/bin/python`;
  if (dryRun) return { python, dryRunList: code.dryRunList ?? [] };

  const env = await timed(timings, "env_sync", () =>
    syncEnv(transport, {
      ...envTarget,
      ...envOptions(session),
      exact: false,
      forceReinstall: false,
      probe: probe.stdout,
      signal,
    }),
  );
  report.env = envReportJson(env);
  report.warnings.push(...(env.warnings ?? []));

  if (sectionLines(probe.stdout, RUNTIME_SECTION)?.[0] !== "present") {
    await timed(timings, "code_sync", () => uploadFiles(transport, dirname(remoteFile("runner.py")), RUNTIME_FILES, layout.runtimeDir));
  }
  await cleanOldJobs(session, job);
  return { python, dryRunList: null };
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
