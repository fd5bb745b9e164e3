// The planner: what must change in a remote env so that it satisfies a snapshot. Pure logic over the wanted
// requirements, the remote's installed distributions and the remote's marker environment.
import { type Pep610DirectUrl, sameDirectReference } from "./requirements/direct-url.js";
import { RequirementError } from "./requirements/errors.js";
import { markerValues } from "./parity.js";
import { evaluateMarker } from "./requirements/markers.js";
import { normalizeName } from "./requirements/names.js";
import { formatRequirement, parseRequirement, type Requirement } from "./requirements/requirement.js";
import { compareVersions, isValidVersion, satisfies, specifierClauses } from "./requirements/versions.js";

/**
 * "extra": on the remote, not in the snapshot, and nothing wanted needs it (--exact removes it);
 * "extra-needed": on the remote, not in the snapshot, but a wanted distribution needs it there (kept).
 */
export type PlanAction = "install" | "upgrade" | "downgrade" | "keep" | "remove" | "skip-marker" | "extra" | "extra-needed";

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
  /** Its Requires-Dist lines: which distributions it needs, for --exact. */
  requires?: string[];
}

export interface PlanOptions {
  /** true: a "==version" pin must match exactly, local label included; false: satisfying it is enough. */
  strictVersions: boolean;
  /**
   * Remove installed distributions that are neither wanted nor needed by a wanted one (through the remote's
   * Requires-Dist lines, with the remote's markers and the extras asked for). Without it they are listed.
   */
  exact: boolean;
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
  return {
    name: wanted.name,
    action: "skip-marker",
    from: installed?.version ?? null,
    to: null,
    requirement: formatRequirement(wanted),
    reason: `marker ${wanted.marker} is false on the remote (${markerValues([wanted.marker!], env)})`,
  };
}

/** Whether a Requires-Dist line applies on the remote to a distribution asked for with `extras`. */
function lineApplies(requirement: Requirement, extras: ReadonlySet<string>, env: Record<string, string>): boolean {
  if (requirement.marker === null) return true;
  return [...extras, ""].some((extra) => evaluateMarker(requirement.marker!, { ...env, extra }));
}

/** The installed distributions that `active` needs on the remote, themselves included (and the tooling). */
function neededOnRemote(active: ReadonlyMap<string, Requirement>, have: ReadonlyMap<string, InstalledDistribution>, env: Record<string, string>): Set<string> {
  const needed = new Set<string>(PROTECTED);
  const seen = new Set<string>();
  const stack: [string, Set<string>][] = [...active].map(([name, requirement]) => [name, new Set(requirement.extras.map(normalizeName))]);
  while (stack.length > 0) {
    const [name, extras] = stack.pop()!;
    const key = `${name}[${[...extras].sort().join(",")}]`;
    if (seen.has(key)) continue;
    seen.add(key);
    needed.add(name);
    for (const line of have.get(name)?.requires ?? []) {
      let requirement: Requirement;
      try {
        requirement = parseRequirement(line);
      } catch {
        continue; // Malformed metadata in someone else's package: its dependency is not followed.
      }
      if (lineApplies(requirement, extras, env)) stack.push([normalizeName(requirement.name), new Set(requirement.extras.map(normalizeName))]);
    }
  }
  return needed;
}

/** The remote's distributions beyond the snapshot: removed under --exact unless needed, else listed. */
function beyondSnapshot(
  active: ReadonlyMap<string, Requirement>,
  have: ReadonlyMap<string, InstalledDistribution>,
  env: Record<string, string>,
  exact: boolean,
): PlanEntry[] {
  const needed = neededOnRemote(active, have, env);
  const entries: PlanEntry[] = [];
  for (const [key, dist] of have) {
    if (active.has(key) || PROTECTED.has(key)) continue;
    const base = { name: dist.name, from: dist.version, to: null, requirement: dist.name };
    if (needed.has(key)) {
      entries.push({ ...base, action: "extra-needed", reason: "beyond the snapshot, but a wanted package needs it on the remote (--exact keeps it)" });
    } else if (exact) {
      entries.push({ ...base, action: "remove", reason: "beyond the snapshot, and nothing wanted needs it (--exact)" });
    } else {
      entries.push({ ...base, action: "extra", reason: "beyond the snapshot, and nothing wanted needs it: --exact would remove it" });
    }
  }
  return entries;
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
  entries.push(...beyondSnapshot(active, have, environment, options.exact));
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
