// The remote layout (docs/architecture.md, "Remote layout"), from the target's base_dir and the remote home.
// Code lives in the per-user store (objects/<uid>, trees/<uid>, codesync/store.ts); each job pins a tree.
import type { TargetConfig } from "../config/schema.js";
import { ConfigError } from "../util/errors.js";

export const DEFAULT_BASE_DIR = "~/.slurmray";

/** The interpreter that runs slurmray's own scripts on remote targets (before any env exists). */
export const REMOTE_PYTHON = "python3";

export function remoteBaseDir(target: TargetConfig): string {
  return target.base_dir ?? DEFAULT_BASE_DIR;
}

/** Expands a leading ~ with the remote home; base_dir must end up absolute. */
export function absoluteBaseDir(baseDir: string, home: string): string {
  const expanded = baseDir === "~" ? home : baseDir.startsWith("~/") ? `${home}/${baseDir.slice(2)}` : baseDir;
  if (!expanded.startsWith("/")) {
    throw new ConfigError("base_dir", `must be an absolute path or start with ~/, got ${JSON.stringify(baseDir)}`);
  }
  return expanded.replace(/\/+$/, "");
}

export interface RemoteLayout {
  base: string;
  projectDir: string;
  jobsDir: string;
  runtimeDir: string;
}

export function remoteLayout(base: string, project: string, runtimeHash: string): RemoteLayout {
  const projectDir = `${base}/projects/${project}`;
  return {
    base,
    projectDir,
    jobsDir: `${projectDir}/jobs`,
    runtimeDir: `${base}/runtime/${runtimeHash}`,
  };
}

/** The folder holding every project's envs. */
export function envsDirOf(layout: RemoteLayout): string {
  return `${layout.base}/envs`;
}

/** The env family of one project and one Python major.minor (its generations sit beside it, see envsync/generations.ts). */
export function envDirFor(layout: RemoteLayout, project: string, python: string): string {
  return `${envsDirOf(layout)}/${project}-py${python}`;
}
