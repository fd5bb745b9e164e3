// The planner: what must change in a remote env so that it satisfies a snapshot. Pure logic over the wanted
// requirements, the remote's installed distributions and the remote's marker environment.
import { type Pep610DirectUrl, sameDirectReference } from "./requirements/direct-url.js";
import { RequirementError } from "./requirements/errors.js";
import { evaluateMarker, markerVariables } from "./requirements/markers.js";
import { normalizeName } from "./requirements/names.js";
import { formatRequirement, parseRequirement, type Requirement } from "./requirements/requirement.js";
import { compareVersions, isValidVersion, satisfies, specifierClauses } from "./requirements/versions.js";

export type PlanAction = "install" | "upgrade" | "downgrade" | "keep" | "remove" | "skip-marker";

export interface PlanEntry {
  name: string;
  action: PlanAction;
  /** The version on the remote, or null when it is not installed. */
  from: string | null;
  /** The pinned version, URL or specifier wanted; null for "any version", removals and skipped entries. */
  to: string | null;
  /** What to hand to the installer (PEP 508, without the marker, already evaluated); the name for removals. */
  requirement: string;
  /** Why this entry is in the plan, for people: "local 2.1.0, remote 2.0.3". */
  reason: string;
  /**
   * Set when the installer must force a reinstall because it would otherwise consider the installed
   * distribution good enough: a local label differing under strict versions, or a different direct URL.
   */
  reinstall?: true;
}

export interface Plan {
  entries: PlanEntry[];
}

export interface InstalledDistribution {
  name: string;
  version: string;
  /** Where it was installed from when not from an index: its direct_url.json (PEP 610) or that URL. */
  directUrl?: string | Pep610DirectUrl | null;
}

export interface PlanOptions {
  /** true: a "==version" pin must match exactly, local label included; false: satisfying it is enough. */
  strictVersions: boolean;
  /** Remove installed distributions that are not wanted, among `removable` only. */
  exact: boolean;
  /** The names the caller allows removing: the remote's top-level distributions (nothing else needs them). */
  removable?: readonly string[];
}

export interface PlanInput {
  wanted: readonly (Requirement | string)[];
  installed: readonly InstalledDistribution[];
  /** The REMOTE interpreter's marker environment. */
  environment: Record<string, string>;
  options: PlanOptions;
}

// The env's own tooling: never removed by --exact even when no requirement names it.
const PROTECTED = new Set(["pip", "setuptools", "wheel", "uv"]);
const CHANGES = new Set<PlanAction>(["install", "upgrade", "downgrade", "remove"]);
const INSTALLS = new Set<PlanAction>(["install", "upgrade", "downgrade"]);

/** The version of a single "==version" clause (no wildcard), which is how a snapshot pins. */
function exactPin(specifier: string): string | null {
  const clauses = specifierClauses(specifier);
  const match = clauses.length === 1 ? /^==([^=*]+)$/.exec(clauses[0]!) : null;
  return match ? match[1]! : null;
}

function compareOrNull(a: string, b: string): -1 | 0 | 1 | null {
  return isValidVersion(a) && isValidVersion(b) ? compareVersions(a, b) : null;
}

// Which way a version must move to meet one clause it fails: up for lower bounds and "!=", down for upper
// bounds, and for "==", "===", "~=" whichever side of the clause's version it is on.
function direction(version: string, specifier: string): "upgrade" | "downgrade" {
  for (const clause of specifierClauses(specifier)) {
    if (satisfies(version, clause)) continue;
    const [, op, target] = /^(~=|===|==|!=|<=|>=|<|>)(.*)$/.exec(clause)!;
    if (op === "<" || op === "<=") return "downgrade";
    if (op === "==" || op === "===" || op === "~=") {
      return compareOrNull(version, target!.replace(/\.\*$/, "")) === 1 ? "downgrade" : "upgrade";
    }
    return "upgrade";
  }
  return "upgrade";
}

function describeSource(directUrl: string | Pep610DirectUrl): string {
  if (typeof directUrl === "string") return directUrl;
  const vcs = directUrl.vcs_info;
  return vcs ? `${vcs.vcs}+${directUrl.url}@${vcs.requested_revision ?? vcs.commit_id}` : directUrl.url;
}

/** The entry for one active requirement, given what the remote has installed under its name. */
function planRequirement(wanted: Requirement, installed: InstalledDistribution | undefined, strict: boolean): PlanEntry {
  const pin = exactPin(wanted.specifier);
  const to = wanted.url ?? pin ?? (wanted.specifier || null);
  const entry = { name: wanted.name, from: installed?.version ?? null, to, requirement: formatRequirement(wanted, false) };
  const result = (action: PlanAction, reason: string, reinstall = false): PlanEntry => ({
    ...entry,
    action,
    reason,
    ...(reinstall ? { reinstall: true as const } : {}),
  });

  if (!installed) return result("install", `not installed on the remote${to ? `, wanted ${to}` : ""}`);
  const from = installed.version;
  if (wanted.url) {
    if (installed.directUrl && sameDirectReference(wanted.url, installed.directUrl)) {
      return result("keep", `remote ${from} installed from ${wanted.url}`);
    }
    const source = installed.directUrl ? describeSource(installed.directUrl) : "a package index";
    return result("upgrade", `remote ${from} came from ${source}, wanted ${wanted.url}`, true);
  }
  if (strict && pin) {
    const order = compareOrNull(from, pin);
    const reason = `local ${pin}, remote ${from}`;
    if (order === 0) return result("keep", reason);
    // "==2.1.0" is met by "2.1.0+cu121", so an installer would leave it: this change must be forced.
    return result(order === 1 ? "downgrade" : "upgrade", reason, satisfies(from, wanted.specifier));
  }
  if (satisfies(from, wanted.specifier)) {
    return result("keep", wanted.specifier ? `remote ${from} satisfies ${wanted.specifier}` : `remote ${from}, any version wanted`);
  }
  return result(direction(from, wanted.specifier), `remote ${from} does not satisfy ${wanted.specifier}`);
}

/** Two active requirements for one name (separate lines): one with both specifier sets and all extras. */
function merge(a: Requirement, b: Requirement): Requirement {
  if ((a.url || b.url) && a.url !== b.url) {
    throw new RequirementError(
      `"${a.name}" is required twice with different sources ("${formatRequirement(a)}" and "${formatRequirement(b)}"); keep one`,
    );
  }
  const clauses = [...new Set([...specifierClauses(a.specifier), ...specifierClauses(b.specifier)])];
  return { ...a, extras: [...new Set([...a.extras, ...b.extras])], specifier: clauses.join(","), marker: null };
}

function skipEntry(wanted: Requirement, installed: InstalledDistribution | undefined, env: Record<string, string>): PlanEntry {
  const values = markerVariables(wanted.marker!).map((name) => `${name} = ${JSON.stringify(env[name] ?? "")}`);
  return {
    name: wanted.name,
    action: "skip-marker",
    from: installed?.version ?? null,
    to: null,
    requirement: formatRequirement(wanted),
    reason: `marker ${wanted.marker} is false on the remote (${values.join(", ")})`,
  };
}

/** Plans the changes that make the remote env satisfy `wanted`. Entries are sorted by normalised name. */
export function planEnvironment({ wanted, installed, environment, options }: PlanInput): Plan {
  const have = new Map(installed.map((dist) => [normalizeName(dist.name), dist]));
  const active = new Map<string, Requirement>();
  const skipped = new Map<string, Requirement>();
  for (const item of wanted) {
    const requirement = typeof item === "string" ? parseRequirement(item) : item;
    const key = normalizeName(requirement.name);
    // Markers are evaluated against the remote interpreter: that is where the packages will be imported.
    if (requirement.marker !== null && !evaluateMarker(requirement.marker, environment)) {
      skipped.set(key, requirement);
      continue;
    }
    const previous = active.get(key);
    active.set(key, previous ? merge(previous, requirement) : requirement);
  }

  const entries = [...active].map(([key, requirement]) => planRequirement(requirement, have.get(key), options.strictVersions));
  for (const [key, requirement] of skipped) {
    if (!active.has(key)) entries.push(skipEntry(requirement, have.get(key), environment));
  }
  if (options.exact) {
    for (const key of new Set((options.removable ?? []).map(normalizeName))) {
      const dist = have.get(key);
      if (!dist || active.has(key) || PROTECTED.has(key)) continue;
      entries.push({
        name: dist.name,
        action: "remove",
        from: dist.version,
        to: null,
        requirement: dist.name,
        reason: "installed on the remote but not wanted (--exact)",
      });
    }
  }
  const sortKey = (entry: PlanEntry): string => normalizeName(entry.name);
  return { entries: entries.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0)) };
}

/** The entries that change the env (install, upgrade, downgrade, remove); empty means nothing to do. */
export function planChanges(plan: Plan): PlanEntry[] {
  return plan.entries.filter((entry) => CHANGES.has(entry.action));
}

/** The requirement strings to hand to `uv pip install` / `pip install`. */
export function installArgs(plan: Plan): string[] {
  return plan.entries.filter((entry) => INSTALLS.has(entry.action)).map((entry) => entry.requirement);
}

/** The names the installer must force-reinstall (see PlanEntry.reinstall). */
export function reinstallNames(plan: Plan): string[] {
  return plan.entries.filter((entry) => entry.reinstall).map((entry) => entry.name);
}

/** The names to hand to `uv pip uninstall` / `pip uninstall -y`. */
export function uninstallArgs(plan: Plan): string[] {
  return plan.entries.filter((entry) => entry.action === "remove").map((entry) => entry.name);
}
