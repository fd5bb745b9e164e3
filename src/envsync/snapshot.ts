// The snapshot: the requirements a job needs, computed locally from a requirements file or from the project
// interpreter's installed distributions (DESIGN.md, "The environment engine", step 1).
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { majorMinor, type ProbedDistribution, type ProbedEnvironment, topLevelNames } from "./distributions.js";
import { probeLocalEnvironment } from "./local-probe.js";
import { parseDirectReference, requirementUrlFromPep610 } from "./requirements/direct-url.js";
import { parseRequirementsFile } from "./requirements/file.js";
import { normalizeName } from "./requirements/names.js";
import { formatRequirement, parseRequirement, type Requirement } from "./requirements/requirement.js";

export type SnapshotMode = "top-level" | "full";

export interface SnapshotOptions {
  /** The project interpreter (config/interpreter.ts: projectInterpreter). */
  python: string;
  projectRoot: string;
  mode: SnapshotMode;
  /** A requirements or lock file (relative to projectRoot): used instead of the installed distributions. */
  requirementsFile?: string;
  /** Names left out. */
  exclude: string[];
  /** What the runner needs ("ray"): pinned to the local version when a bare name is installed locally. */
  extra: string[];
  /** Local cache folder (.slurmray/cache). */
  cacheDir: string;
}

export interface IndexOptions {
  indexUrl?: string;
  extraIndexUrls?: string[];
  findLinks?: string[];
}

export interface Snapshot {
  /** PEP 508 lines, names normalised, sorted by name. */
  requirements: string[];
  /** Identifies the requirements and the Python major.minor: what the remote stamp records. */
  hash: string;
  /** The project interpreter's major.minor, "3.11". */
  pythonVersion: string;
  /** Editable installs whose source is outside the project: they cannot be installed remotely. */
  editablesOutside: string[];
  /** "requirements file <path>", "top-level distributions of <python>" or "all distributions of <python>". */
  source: string;
  /** Index options a requirements file gave (--index-url, --extra-index-url, --find-links). */
  indexOptions?: IndexOptions;
}

// The env's own tooling: each env has its own, and pinning the local one would only fight the remote's.
const TOOLING = new Set(["pip", "setuptools", "wheel", "uv", "distribute"]);

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** The local directory a file:// URL names, or null for any other URL. */
function localPath(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  try {
    return fileURLToPath(url);
  } catch {
    return null;
  }
}

function projectName(projectRoot: string): string | null {
  const file = resolve(projectRoot, "pyproject.toml");
  if (!existsSync(file)) return null;
  try {
    const name = (parseToml(readFileSync(file, "utf8")) as { project?: { name?: unknown } }).project?.name;
    return typeof name === "string" ? normalizeName(name) : null;
  } catch {
    return null;
  }
}

interface Selection {
  requirements: Requirement[];
  editablesOutside: string[];
}

/** The requirement that reproduces an installed distribution remotely, or where it must go instead. */
function classify(dist: ProbedDistribution, projectRoot: string, project: string | null): Requirement | "project" | "editable-outside" {
  const name = normalizeName(dist.name);
  if (name === project) return "project";
  const direct = dist.direct_url;
  const path = direct ? localPath(direct.url) : null;
  if (path !== null && isInside(path, projectRoot)) return "project";
  if (direct?.dir_info?.editable) return "editable-outside";
  const pinned = { name, extras: [], specifier: "", marker: null, url: null };
  // A VCS pin or a remote archive is reproduced by its URL; a local file can only be matched by version.
  if (direct && path === null) return { ...pinned, url: requirementUrlFromPep610(direct) };
  return { ...pinned, specifier: `==${dist.version}` };
}

function fromInstalled(probe: ProbedEnvironment, mode: SnapshotMode, projectRoot: string): Selection {
  const wanted = mode === "full" ? null : new Set(topLevelNames(probe.distributions, probe.markers));
  const project = projectName(projectRoot);
  const selection: Selection = { requirements: [], editablesOutside: [] };
  for (const dist of probe.distributions) {
    const name = normalizeName(dist.name);
    if (TOOLING.has(name) || (wanted && !wanted.has(name))) continue;
    const kind = classify(dist, projectRoot, project);
    if (kind === "editable-outside") selection.editablesOutside.push(name);
    else if (kind !== "project") selection.requirements.push(kind);
  }
  return selection;
}

function fromFile(file: string, projectRoot: string): Selection & { indexOptions: IndexOptions } {
  const parsed = parseRequirementsFile(file);
  const selection: Selection = { requirements: [], editablesOutside: [] };
  for (const requirement of parsed.requirements) {
    const local = requirement.editable && parseDirectReference(requirement.url ?? "").vcs === null;
    if (!local) selection.requirements.push({ ...requirement, name: normalizeName(requirement.name) });
    else if (!isInside(requirement.url!, projectRoot)) selection.editablesOutside.push(normalizeName(requirement.name));
  }
  const { indexUrl, extraIndexUrls, findLinks } = parsed.options;
  const indexOptions: IndexOptions = {
    ...(indexUrl ? { indexUrl } : {}),
    ...(extraIndexUrls.length > 0 ? { extraIndexUrls } : {}),
    ...(findLinks.length > 0 ? { findLinks } : {}),
  };
  return { ...selection, indexOptions };
}

/** The runner's needs not already wanted; a bare name installed locally is pinned to the local version. */
function runnerNeeds(extra: readonly string[], wanted: readonly Requirement[], probe: ProbedEnvironment): Requirement[] {
  const have = new Set(wanted.map((requirement) => requirement.name));
  const local = new Map(probe.distributions.map((dist) => [normalizeName(dist.name), dist.version]));
  const added: Requirement[] = [];
  for (const line of extra) {
    const requirement = parseRequirement(line);
    const name = normalizeName(requirement.name);
    if (have.has(name)) continue;
    const bare = requirement.specifier === "" && requirement.url === null;
    const version = local.get(name);
    added.push({ ...requirement, name, specifier: bare && version ? `==${version}` : requirement.specifier });
  }
  return added;
}

export function snapshotHash(pythonVersion: string, requirements: readonly string[]): string {
  return createHash("sha256")
    .update(JSON.stringify({ python: pythonVersion, requirements }))
    .digest("hex")
    .slice(0, 32);
}

/** Computes the snapshot. No Python starts when the interpreter's site-packages are as last time. */
export async function takeSnapshot(options: SnapshotOptions): Promise<Snapshot> {
  const probe = await probeLocalEnvironment(options.python, options.projectRoot, options.cacheDir);
  const file = options.requirementsFile ? resolve(options.projectRoot, options.requirementsFile) : null;
  const selection: Selection & { indexOptions?: IndexOptions } = file
    ? fromFile(file, options.projectRoot)
    : fromInstalled(probe, options.mode, options.projectRoot);
  const excluded = new Set(options.exclude.map(normalizeName));
  const kept = selection.requirements.filter((requirement) => !excluded.has(requirement.name));
  const all = [...kept, ...runnerNeeds(options.extra, kept, probe)];
  const requirements = [...new Set(all.map((requirement) => formatRequirement(requirement)))].sort();
  const pythonVersion = majorMinor(probe.python);
  const source = file
    ? `requirements file ${file}`
    : `${options.mode === "full" ? "all" : "top-level"} distributions of ${probe.executable}`;
  return {
    requirements,
    hash: snapshotHash(pythonVersion, requirements),
    pythonVersion,
    editablesOutside: [...new Set(selection.editablesOutside)].sort(),
    source,
    ...(selection.indexOptions && Object.keys(selection.indexOptions).length > 0 ? { indexOptions: selection.indexOptions } : {}),
  };
}
