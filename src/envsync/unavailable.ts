// Parity's second exception (DESIGN.md, "The environment engine"): a local distribution whose pinned version
// has no wheel or sdist the remote can use (a Windows-only wheel on a Linux cluster, a version the index
// lacks) cannot exist there. The installer's report says so; this module reads it, only for that kind of
// failure and only for the exact pins slurmray gave, so that a network, disk or build failure, or a real
// version conflict, is never taken for one. sync.ts then installs everything else and lists the pin in
// env.skipped.
import { DISK, NETWORK, TLS } from "./install-errors.js";
import { normalizeName } from "./requirements/names.js";
import { parseRequirement, type Requirement } from "./requirements/requirement.js";
import { isValidVersion, satisfies } from "./requirements/versions.js";
import type { Snapshot } from "./snapshot.js";

/** A distribution at the exact version the snapshot pins (normalised name). */
export interface Pin {
  name: string;
  version: string;
}

// pip could not read the index (an HTTP error, an unreadable page): its "from versions: none" then says nothing.
const INDEX_FAILURE = /Could not fetch URL|HTTP error \d{3}/i;

function parsed(text: string): Requirement | null {
  try {
    return parseRequirement(text.trim());
  } catch {
    return null;
  }
}

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The name as an installer may spell it: case, and "-", "_", "." alike (PEP 503). */
const namePattern = (name: string): string => normalizeName(name).split("-").map(escaped).join("[-_.]");

/** uv's resolver report: this exact pin has no wheel for the remote, or is not in the index at all. */
function uvSaysUnavailable(report: string, pin: Pin): boolean {
  const name = namePattern(pin.name);
  const exact = `${name}==${escaped(pin.version)}`;
  const patterns = [
    `(?:^|[\\s(])${exact} has no wheels with a matching (?:platform|Python ABI|Python implementation|Python version) tag`,
    `there is no version of ${exact}(?![\\w.+-])`,
    `(?:^|\\s)${name} was not found in the (?:package registry|provided package locations)`,
  ];
  return patterns.some((pattern) => new RegExp(pattern, "i").test(report));
}

/** pip's "No matching distribution found for X==V": X at the pinned version is not there for the remote. */
function pipNotFound(stderr: string, pins: ReadonlyMap<string, string>): Pin[] {
  return [...stderr.matchAll(/^ERROR: No matching distribution found for (.+)$/gm)].flatMap((match) => {
    const requirement = parsed(match[1]!);
    const version = requirement && pins.get(normalizeName(requirement.name));
    return version && satisfies(version, requirement.specifier) ? [{ name: normalizeName(requirement.name), version }] : [];
  });
}

/**
 * pip's ResolutionImpossible with a constraint: "The conflict is caused by:" then what each side asked. When
 * every line names a pinned distribution and the pinned version satisfies what each asked, nothing conflicts:
 * the pinned version simply has no file the remote can use. Any other conflict is a real one and counts.
 */
function pipConflict(stderr: string, pins: ReadonlyMap<string, string>): Pin[] {
  const block = /^The conflict is caused by:\n((?:[ \t]+\S.*\n?)+)/m.exec(stderr)?.[1];
  if (!block) return [];
  const asked = block
    .trim()
    .split("\n")
    .map((line) => /^\s*(?:The user requested (?:\(constraint\) )?|\S+ \S+ depends on )(.+)$/.exec(line)?.[1] ?? null);
  const requirements = asked.map((text) => (text === null ? null : parsed(text)));
  const names = new Set<string>();
  for (const requirement of requirements) {
    const version = requirement && pins.get(normalizeName(requirement.name));
    if (!version || !satisfies(version, requirement.specifier)) return [];
    names.add(normalizeName(requirement.name));
  }
  return [...names].map((name) => ({ name, version: pins.get(name)! }));
}

/**
 * The pins the installer (uv or pip) reported as having no distribution for the remote, from its output of a
 * failed install; empty when the failure is of another kind (network, TLS, disk, build, a real conflict).
 */
export function unavailablePins(stderr: string, pins: readonly Pin[]): Pin[] {
  if (DISK.test(stderr) || NETWORK.test(stderr) || TLS.test(stderr) || INDEX_FAILURE.test(stderr)) return [];
  const byName = new Map(pins.map((pin) => [normalizeName(pin.name), pin.version]));
  // uv wraps its report to the terminal's width: one line, single spaces.
  const report = stderr.replace(/\s+/g, " ");
  const fromUv = pins.filter((pin) => uvSaysUnavailable(report, pin)).map((pin) => ({ name: normalizeName(pin.name), version: pin.version }));
  const found = new Map([...fromUv, ...pipNotFound(stderr, byName), ...pipConflict(stderr, byName)].map((pin) => [pin.name, pin]));
  return [...found.values()];
}

/** "name==version" lines (requirements or constraints) pinned to one exact version: what may be reported unavailable. */
export function pinsOf(lines: readonly string[]): Pin[] {
  return lines.flatMap((line) => {
    const requirement = parsed(line);
    const match = requirement && !requirement.url ? /^===?([^,=*]+)$/.exec(requirement.specifier) : null;
    return match && isValidVersion(match[1]!) ? [{ name: normalizeName(requirement!.name), version: match[1]! }] : [];
  });
}

/** The snapshot's pins that are among `unavailable` (same name and version): a new local version is tried again. */
export function stillPinned(snapshot: Snapshot, unavailable: readonly Pin[]): Pin[] {
  const pins = new Set(pinsOf([...snapshot.requirements, ...(snapshot.constraints ?? [])]).map(({ name, version }) => `${name}==${version}`));
  return unavailable.filter(({ name, version }) => pins.has(`${name}==${version}`));
}

/**
 * The snapshot without the unavailable distributions (requirements and constraints), keeping its hash: the
 * stamp still records the local env, so that the next run finds nothing to do.
 */
export function withoutUnavailable(snapshot: Snapshot, unavailable: readonly Pin[]): Snapshot {
  if (unavailable.length === 0) return snapshot;
  const names = new Set(unavailable.map((pin) => pin.name));
  const kept = (line: string): boolean => !names.has(normalizeName(parseRequirement(line).name));
  const constraints = snapshot.constraints?.filter(kept);
  return { ...snapshot, requirements: snapshot.requirements.filter(kept), ...(constraints ? { constraints } : {}) };
}

/** "(linux x86_64, cp311)": the remote platform, from its marker environment. */
export function platformOf(markers: Record<string, string> | null): string {
  if (!markers) return "";
  const python = markers["implementation_name"] === "cpython" ? `cp${(markers["python_version"] ?? "").replace(".", "")}` : `${markers["implementation_name"] ?? "python"} ${markers["python_version"] ?? ""}`;
  return ` (${markers["sys_platform"] ?? "?"} ${markers["platform_machine"] ?? "?"}, ${python.trim()})`;
}

export function unavailableReason(markers: Record<string, string> | null): string {
  return `no wheel or sdist for the remote platform${platformOf(markers)} in the target's package index`;
}

/** The unavailable pins among the snapshot's top-level requirements: the env is made without them. */
export function topLevelUnavailable(snapshot: Snapshot, unavailable: readonly Pin[]): Pin[] {
  const top = new Set(snapshot.requirements.map((line) => normalizeName(parseRequirement(line).name)));
  return unavailable.filter((pin) => top.has(pin.name));
}

/** The warning for unavailable distributions the user asked for at the top level: the job cannot import them there. */
export function topLevelWarning(snapshot: Snapshot, unavailable: readonly Pin[]): string | null {
  const named = topLevelUnavailable(snapshot, unavailable).map((pin) => `${pin.name} ${pin.version}`);
  if (named.length === 0) return null;
  return (
    `${named.join(", ")} (a top-level requirement) cannot be installed on the target: the package index has no wheel or sdist ` +
    `for its platform. The env is made without ${named.length === 1 ? "it" : "them"}; a job that imports ${named.length === 1 ? "it" : "one"} there fails with ImportError. ` +
    `If the job needs ${named.length === 1 ? "it" : "them"}, provide a build for the target's platform; else leave ${named.length === 1 ? "it" : "them"} out with [project] exclude to silence this.`
  );
}
