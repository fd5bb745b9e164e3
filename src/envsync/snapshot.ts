// The snapshot: the requirements a job needs, computed locally from a requirements file or from the project
// interpreter's installed distributions (DESIGN.md, "The environment engine", step 1).
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { InputError } from "../util/errors.js";
import { majorMinor, type ProbedDistribution, type ProbedEnvironment, topLevelNames } from "./distributions.js";
import { probeLocalEnvironment } from "./local-probe.js";
import { parseDirectReference, requirementUrlFromPep610 } from "./requirements/direct-url.js";
import { parseRequirementsFile } from "./requirements/file.js";
import { normalizeName } from "./requirements/names.js";
import { formatRequirement, parseRequirement, type Requirement } from "./requirements/requirement.js";
import { isValidVersion } from "./requirements/versions.js";

/** The former `snapshot` setting: both values now mean parity (see parity.ts); accepted with a note. */
export type SnapshotMode = "top-level" | "full";

export interface SnapshotOptions {
  /** The project interpreter (config/interpreter.ts: projectInterpreter). */
  python: string;
  projectRoot: string;
  /** The `snapshot` key of slurmray.toml when set: only a note now. */
  mode?: SnapshotMode;
  /** A requirements or lock file (relative to projectRoot): used instead of the installed distributions. */
  requirementsFile?: string;
  /** Names left out. */
  exclude: string[];
  /** What the runner needs ("ray"): pinned to the local version when a bare name is installed locally. */
  extra: string[];
  /** Local cache folder (.slurmray/cache). */
  cacheDir: string;
  /**
   * strict_versions (default true). False: only the requirements count, no constraints, so the remote may
   * hold other versions of what they need (and the snapshot hash says so).
   */
  strictVersions?: boolean;
}

export interface IndexOptions {
  indexUrl?: string;
  extraIndexUrls?: string[];
  findLinks?: string[];
}

export interface Snapshot {
  /** PEP 508 lines, names normalised, sorted by name: the top-level distributions, or a requirements file's. */
  requirements: string[];
  /**
   * Parity: "name==version" for every other local distribution (not from a requirements file), sorted;
   * the installer's constraints where they apply remotely (see parity.ts).
   */
  constraints?: string[];
  /** The local dependency graph, normalised name -> Requires-Dist lines: which constraints apply remotely. */
  dependencies?: Record<string, string[]>;
  /**
   * Said once to the user about how the snapshot was taken: a setting that changed meaning, what is mirrored
   * from a non-virtualenv interpreter, conda's distributions.
   */
  notes?: string[];
  /** Identifies the requirements, constraints and the Python major.minor: what the remote stamp records. */
  hash: string;
  /** The project interpreter's major.minor, "3.11". */
  pythonVersion: string;
  /** Editable installs whose source is outside the project: they cannot be installed remotely. */
  editablesOutside: string[];
  /** "requirements file <path>" or "distributions of <python>". */
  source: string;
  /** The requirements file (or pyproject.toml) the requirements were read from, when they were. */
  file?: string;
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
  /** Pins of the distributions that are not top-level (installed distributions only). */
  constraints: Requirement[];
  editablesOutside: string[];
  /** Distributions conda installed (pinned to their version on the package index). */
  conda?: string[];
}

// Where conda builds packages: a direct_url.json pointing there names a conda package, not a local pin.
const CONDA_BUILD = /\/(conda-bld|build_artifacts|croot)\/|^file:\/\/\/tmp\/build\/[0-9a-f]+\//;

/** Installed by conda: INSTALLER says so, or its direct_url.json points into a conda build dir. */
function isConda(dist: ProbedDistribution): boolean {
  return dist.installer === "conda" || CONDA_BUILD.test(dist.direct_url?.url ?? "");
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
  // A conda package is the same version from the package index (its build dir exists on no other machine).
  if (isConda(dist)) return { ...pinned, specifier: `==${dist.version}` };
  // A VCS pin or a remote archive is reproduced by its URL; a local file can only be matched by version.
  if (direct && path === null) return { ...pinned, url: requirementUrlFromPep610(direct) };
  // A legacy version that is not PEP 440 ("2004d") can only be pinned by string.
  return { ...pinned, specifier: `${isValidVersion(dist.version) ? "==" : "==="}${dist.version}` };
}

// The project and editables do not travel as packages, so what they require counts as top-level.
function fromInstalled(probe: ProbedEnvironment, projectRoot: string): Selection {
  const project = projectName(projectRoot);
  const selection: Selection = { requirements: [], constraints: [], editablesOutside: [] };
  const packages = new Map<string, Requirement>();
  const conda: string[] = [];
  for (const dist of probe.distributions) {
    const name = normalizeName(dist.name);
    if (TOOLING.has(name)) continue;
    const kind = classify(dist, projectRoot, project);
    if (kind === "editable-outside") selection.editablesOutside.push(name);
    else if (kind !== "project") packages.set(name, kind);
    if (typeof kind !== "string" && isConda(dist)) conda.push(name);
  }
  const shipped = probe.distributions.filter((dist) => packages.has(normalizeName(dist.name)));
  const topLevel = new Set(topLevelNames(shipped, probe.markers));
  for (const [name, requirement] of packages) {
    if (topLevel.has(name)) selection.requirements.push(requirement);
    // A constraint must be a plain version pin; a dependency from a URL is left to its dependant.
    else if (requirement.url === null) selection.constraints.push(requirement);
  }
  return { ...selection, conda };
}

/** The PEP 508 lines of pyproject.toml's [project].dependencies. */
function fromPyproject(file: string): Selection {
  let dependencies: unknown;
  try {
    dependencies = (parseToml(readFileSync(file, "utf8")) as { project?: { dependencies?: unknown } }).project?.dependencies;
  } catch (error) {
    throw new InputError(`project.requirements: cannot read ${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(dependencies) || !dependencies.every((line) => typeof line === "string")) {
    throw new InputError(`project.requirements: ${file} has no [project].dependencies list; add one, or name a requirements file`);
  }
  const requirements = dependencies.map((line) => {
    const requirement = parseRequirement(line);
    return { ...requirement, name: normalizeName(requirement.name) };
  });
  return { requirements, constraints: [], editablesOutside: [] };
}

const SHOWN = 8;

/** One line per thing the user should know about where the snapshot comes from. */
function sourceNotes(probe: ProbedEnvironment, selection: Selection, fromInstalled: boolean): string[] {
  const notes: string[] = [];
  if (fromInstalled && probe.virtualenv === false && !probe.conda) {
    notes.push(
      `The project interpreter ${probe.executable} is not a virtualenv: the remote env mirrors its ` +
        `${selection.requirements.length} top-level packages (and what they require). To choose otherwise, create a .venv in the project, ` +
        'set [project] interpreter, or set [project] requirements to a requirements file or to "pyproject.toml" (its [project].dependencies).',
    );
  }
  const conda = selection.conda ?? [];
  if (conda.length > 0) {
    const shown = conda.slice(0, SHOWN).join(", ") + (conda.length > SHOWN ? ` and ${conda.length - SHOWN} more` : "");
    notes.push(
      `${conda.length} package(s) were installed by conda (${shown}): the remote env installs the same versions ` +
        "from the package index. One the index lacks at that version is left out and listed in env.skipped (an install " +
        "fails only when another package needs it); leave such packages out with [project] exclude, or list what the " +
        "job needs with [project] requirements.",
    );
  }
  return notes;
}

function fromFile(file: string, projectRoot: string): Selection & { indexOptions: IndexOptions } {
  const parsed = parseRequirementsFile(file);
  const selection: Selection = { requirements: [], constraints: [], editablesOutside: [] };
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

export function snapshotHash(pythonVersion: string, requirements: readonly string[], constraints: readonly string[] = []): string {
  // Without constraints the hash is what it was before parity, so existing stamps stay valid for files.
  const identity = constraints.length > 0 ? { python: pythonVersion, requirements, constraints } : { python: pythonVersion, requirements };
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex").slice(0, 32);
}

const sortedLines = (requirements: readonly Requirement[]): string[] =>
  [...new Set(requirements.map((requirement) => formatRequirement(requirement)))].sort();

function modeNote(mode: SnapshotMode | undefined, file: string | null): string[] {
  if (mode === undefined) return [];
  const what = file ? "the requirements file is used as it is" : "the remote env holds the local version of every distribution";
  return [`project.snapshot = "${mode}" no longer changes anything: ${what}; remove the setting`];
}

/** Computes the snapshot. No Python starts when the interpreter's site-packages are as last time. */
export async function takeSnapshot(options: SnapshotOptions): Promise<Snapshot> {
  const probe = await probeLocalEnvironment(options.python, options.projectRoot, options.cacheDir);
  const file = options.requirementsFile ? resolve(options.projectRoot, options.requirementsFile) : null;
  const pyproject = file !== null && basename(file) === "pyproject.toml";
  const selection: Selection & { indexOptions?: IndexOptions } = file
    ? pyproject
      ? fromPyproject(file)
      : fromFile(file, options.projectRoot)
    : fromInstalled(probe, options.projectRoot);
  const excluded = new Set(options.exclude.map(normalizeName));
  const kept = selection.requirements.filter((requirement) => !excluded.has(requirement.name));
  const requirements = sortedLines([...kept, ...runnerNeeds(options.extra, kept, probe)]);
  const wanted = new Set(requirements.map((line) => parseRequirement(line).name));
  const strict = options.strictVersions ?? true;
  const constraints = strict ? sortedLines(selection.constraints.filter(({ name }) => !excluded.has(name) && !wanted.has(name))) : [];
  const pythonVersion = majorMinor(probe.python);
  const notes = [...modeNote(options.mode, file), ...sourceNotes(probe, selection, file === null)];
  return {
    requirements,
    ...(constraints.length > 0 ? { constraints, dependencies: dependencyGraph(probe) } : {}),
    ...(notes.length > 0 ? { notes } : {}),
    hash: snapshotHash(pythonVersion, requirements, constraints),
    pythonVersion,
    editablesOutside: [...new Set(selection.editablesOutside)].sort(),
    source: file ? `${pyproject ? "[project].dependencies of" : "requirements file"} ${file}` : `distributions of ${probe.executable}`,
    ...(file ? { file } : {}),
    ...(selection.indexOptions && Object.keys(selection.indexOptions).length > 0 ? { indexOptions: selection.indexOptions } : {}),
  };
}

/** Normalised name -> Requires-Dist lines, for every local distribution. */
function dependencyGraph(probe: ProbedEnvironment): Record<string, string[]> {
  return Object.fromEntries(probe.distributions.map((dist) => [normalizeName(dist.name), dist.requires]));
}
