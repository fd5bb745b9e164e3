// Parity (DESIGN.md, "The environment engine", step 1): the remote env holds the local version of every
// distribution, not only of the top-level ones. The top-level requirements are installed with the local set
// as constraints (`-c`, which uv and pip both apply). A local distribution the remote does not need (reached
// locally only through a marker false there, "pywin32; sys_platform == 'win32'") cannot exist there: its
// constraint is dropped and it is reported as skipped, with the reason, never silently left out.
import { evaluateMarker, markerVariables } from "./requirements/markers.js";
import { normalizeName } from "./requirements/names.js";
import { parseRequirement, type Requirement } from "./requirements/requirement.js";
import type { Snapshot } from "./snapshot.js";

export interface SkippedDistribution {
  name: string;
  /** The local version (or the specifier a requirements file gave), null when it named none. */
  version: string | null;
  reason: string;
}

export interface Parity {
  /**
   * "name==version" lines that apply on the remote: the installer's constraints file, and pins the planner
   * compares with the remote's versions.
   */
  constraints: string[];
  skipped: SkippedDistribution[];
}

interface Edge {
  parent: string;
  marker: string | null;
}

function parsed(line: string): Requirement | null {
  try {
    return parseRequirement(line);
  } catch {
    return null; // Malformed metadata in someone else's package must not stop a sync.
  }
}

/** "sys_platform = "linux", python_version = "3.11"": the values a marker read, to explain why it is false. */
export function markerValues(markers: readonly string[], env: Record<string, string>): string {
  const names = [...new Set(markers.flatMap((marker) => markerVariables(marker)))].filter((name) => name !== "extra");
  return names.map((name) => `${name} = ${JSON.stringify(env[name] ?? "")}`).join(", ");
}

/** Whether a Requires-Dist line applies in `env`; extra-only lines do not (their targets are top-level). */
function applies(requirement: Requirement, env: Record<string, string>): boolean {
  return requirement.marker === null || evaluateMarker(requirement.marker, { ...env, extra: "" });
}

/** The distributions reached from `roots` through the dependency graph, following the lines true in `env`. */
export function reachable(roots: Iterable<string>, dependencies: Record<string, string[]>, env: Record<string, string>): Set<string> {
  const reached = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    for (const line of dependencies[name] ?? []) {
      const requirement = parsed(line);
      if (requirement && applies(requirement, env)) stack.push(normalizeName(requirement.name));
    }
  }
  return reached;
}

/** Who requires `name` in the local graph, and under which marker. */
function edgesTo(name: string, dependencies: Record<string, string[]>): Edge[] {
  return Object.entries(dependencies).flatMap(([parent, lines]) =>
    lines.flatMap((line) => {
      const requirement = parsed(line);
      return requirement && normalizeName(requirement.name) === name ? [{ parent, marker: requirement.marker }] : [];
    }),
  );
}

function describeEdges(edges: readonly Edge[]): string {
  if (edges.length === 0) return "nothing the remote installs requires it";
  return edges.map(({ parent, marker }) => (marker ? `${parent} requires it only when ${marker}` : `required by ${parent}`)).join("; ");
}

/** Why a local distribution is not on the remote; with the remote's markers when they are known. */
function skipReason(name: string, dependencies: Record<string, string[]>, env: Record<string, string> | null): string {
  const edges = edgesTo(name, dependencies);
  if (!env) return `not installed by the remote's installer: ${describeEdges(edges)}`;
  const markers = edges.flatMap((edge) => (edge.marker ? [edge.marker] : []));
  const values = markerValues(markers, env);
  return `not needed on the remote: ${describeEdges(edges)}${values ? ` (there ${values})` : ""}`;
}

function pinOf(line: string): { name: string; version: string } {
  const requirement = parseRequirement(line);
  return { name: requirement.name, version: requirement.specifier.replace(/^===?/, "") };
}

/**
 * What parity asks of a remote whose marker environment is `env`. With `env` null (an env about to be made,
 * whose interpreter is not known yet), every constraint goes to the installer, which ignores those it does
 * not need, and skippedAfterInstall tells what it left out. (Under strict_versions = false the snapshot has
 * no constraints: see snapshot.ts.)
 */
export function parityFor(snapshot: Snapshot, env: Record<string, string> | null): Parity {
  const all = snapshot.constraints ?? [];
  if (env === null) return { constraints: all, skipped: [] };
  const dependencies = snapshot.dependencies ?? {};
  const roots = snapshot.requirements.flatMap((line) => {
    const requirement = parseRequirement(line);
    return requirement.marker === null || evaluateMarker(requirement.marker, env) ? [requirement.name] : [];
  });
  const reached = reachable(roots, dependencies, env);
  const kept = all.filter((line) => reached.has(pinOf(line).name));
  const skipped = all
    .filter((line) => !reached.has(pinOf(line).name))
    .map((line) => ({ ...pinOf(line), reason: skipReason(pinOf(line).name, dependencies, env) }));
  return { constraints: kept, skipped };
}

/** The local distributions an installer left out of a new env (see parityFor), with why they are not needed. */
export function skippedAfterInstall(snapshot: Snapshot, installed: Iterable<string>): SkippedDistribution[] {
  const present = new Set([...installed].map(normalizeName));
  return (snapshot.constraints ?? [])
    .map(pinOf)
    .filter(({ name }) => !present.has(name))
    .map((pin) => ({ ...pin, reason: skipReason(pin.name, snapshot.dependencies ?? {}, null) }));
}
