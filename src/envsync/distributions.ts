// What src/remote/envprobe.py reports about a Python environment, and the dependency graph over it:
// which installed distributions are top-level (nothing else installed requires them).
import type { Pep610DirectUrl } from "./requirements/direct-url.js";
import { evaluateMarker } from "./requirements/markers.js";
import { normalizeName } from "./requirements/names.js";
import { parseRequirement } from "./requirements/requirement.js";

export interface ProbedDistribution {
  name: string;
  version: string;
  /** Its Requires-Dist lines (PEP 508, markers included). */
  requires: string[];
  direct_url: Pep610DirectUrl | null;
  /** The dist-info INSTALLER ("pip", "uv", "conda"; "" when absent). */
  installer?: string;
}

/** One JSON line of envprobe.py. */
export interface ProbedEnvironment {
  /** Full version, "3.11.2". */
  python: string;
  executable: string;
  markers: Record<string, string>;
  distributions: ProbedDistribution[];
  /** Existing sys.path directories (site-packages and friends). */
  path: string[];
  /** The user site-packages dir (`pip install --user`), whether it exists or not; null when disabled. */
  user_site?: string | null;
  /** sys.prefix differs from sys.base_prefix (a venv). */
  virtualenv?: boolean;
  /** sys.prefix holds conda-meta (a conda env). */
  conda?: boolean;
  /** The env's stamp, when the probe was given an env dir. */
  stamp?: unknown;
}

/** Whether a value read back from a cache has the shape of a ProbedEnvironment. */
export function isProbedEnvironment(value: unknown): value is ProbedEnvironment {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.python === "string" && typeof v.markers === "object" && v.markers !== null && Array.isArray(v.distributions) && Array.isArray(v.path);
}

export function majorMinor(version: string): string {
  return version.split(".").slice(0, 2).join(".");
}

/** The normalised names a distribution requires in this environment (markers evaluated, no extras). */
function dependencies(dist: ProbedDistribution, markers: Record<string, string>): string[] {
  const names: string[] = [];
  for (const line of dist.requires) {
    let requirement: ReturnType<typeof parseRequirement>;
    try {
      requirement = parseRequirement(line);
    } catch {
      continue; // Malformed metadata in someone else's package must not stop the snapshot.
    }
    // An extra-only dependency ("gamma; extra == 'fast'") does not count: the distribution stays top-level,
    // so it is pinned and installed even though the extra is not named.
    if (requirement.marker && !evaluateMarker(requirement.marker, { ...markers, extra: "" })) continue;
    names.push(normalizeName(requirement.name));
  }
  return names;
}

/**
 * The top-level distributions: those no other installed distribution requires. Distributions that only
 * require each other (a cycle nothing else reaches) are added too, so that every installed distribution is
 * reachable from the result.
 */
export function topLevelNames(dists: readonly ProbedDistribution[], markers: Record<string, string>): string[] {
  const graph = new Map(dists.map((dist) => [normalizeName(dist.name), dependencies(dist, markers)]));
  const required = new Set([...graph].flatMap(([name, deps]) => deps.filter((dep) => dep !== name)));
  const roots = [...graph.keys()].filter((name) => !required.has(name)).sort();
  const reached = new Set<string>();
  const visit = (start: string): void => {
    const stack = [start];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (reached.has(name)) continue;
      reached.add(name);
      for (const dep of graph.get(name) ?? []) if (graph.has(dep)) stack.push(dep);
    }
  };
  roots.forEach(visit);
  for (const name of [...graph.keys()].sort()) {
    if (reached.has(name)) continue;
    roots.push(name);
    visit(name);
  }
  return roots.sort();
}
