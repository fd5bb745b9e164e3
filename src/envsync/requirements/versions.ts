// PEP 440 versions and specifier sets. Parsing and ordering come from @renovatebot/pep440; the specifier check
// is our own, because the library's gets local labels, epochs and pre/post-release bounds wrong (checked
// against PyPA's packaging by test/unit/requirements/differential.test.ts). The library throws a bare
// TypeError on invalid input, so every entry point here validates first and raises a RequirementError.
import { compare, explain, valid, validRange } from "@renovatebot/pep440";
import { RequirementError } from "./errors.js";

export function isValidVersion(version: string): boolean {
  return valid(version.trim()) !== null;
}

function checkedVersion(version: string): string {
  const trimmed = version.trim();
  if (valid(trimmed) === null) {
    throw new RequirementError(`"${version}" is not a valid PEP 440 version (for example 1.0, 2.1.0rc1, 1.0+cu121)`);
  }
  return trimmed;
}

/** PEP 440 ordering: pre < final < post, epochs first, local labels last. "1.0" equals "1.0.0". */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  return Math.sign(compare(checkedVersion(a), checkedVersion(b))) as -1 | 0 | 1;
}

/** The clauses of a specifier set, each without inner spaces: " >= 1.0 , <2" -> [">=1.0", "<2"]. */
export function specifierClauses(specifier: string): string[] {
  const trimmed = specifier.trim();
  return trimmed === "" ? [] : trimmed.split(",").map((clause) => clause.replace(/\s+/g, ""));
}

// "==1.0.*" takes a release only: "==1.0a1.*" is invalid (the library accepts it, PEP 440 does not).
const validWildcard = (clause: string): boolean => !clause.endsWith(".*") || /^(==|!=)v?(\d+!)?\d+(\.\d+)*\.\*$/i.test(clause);

/** A specifier set in canonical form (clauses joined by ","), or a RequirementError naming the bad clause. */
export function normalizeSpecifier(specifier: string): string {
  const clauses = specifierClauses(specifier);
  for (const clause of clauses) {
    if (clause === "" || !validRange(clause) || !validWildcard(clause)) {
      const shown = clause === "" ? specifier.trim() : clause;
      throw new RequirementError(
        `"${shown}" is not a valid version specifier (write for example ">=1.0", "==2.1.*" or ">=1,<2")`,
      );
    }
  }
  return clauses.join(",");
}

type Parsed = NonNullable<ReturnType<typeof explain>>;

function parsed(version: string): Parsed {
  return explain(version)!;
}

/** Epoch and release, zero-padded to `length`, as packaging's prefix match sees them. */
function releasePrefix(version: Parsed, length: number): number[] {
  return [version.epoch, ...Array.from({ length }, (_, i) => version.release[i] ?? 0)];
}

// "==1.0.*": same epoch, and the release (padded with zeros) starts with 1.0; pre/post/dev/local do not count.
function prefixMatch(version: Parsed, prefix: Parsed): boolean {
  const length = prefix.release.length;
  return releasePrefix(version, length).join(".") === releasePrefix(prefix, length).join(".");
}

/** The version without its post, dev and local segments: "1!2.0rc1.post3.dev1+x" -> "1!2.0rc1". */
function withoutPost(version: Parsed): string {
  const epoch = version.epoch ? `${version.epoch}!` : "";
  const pre = version.pre ? version.pre.join("") : "";
  return `${epoch}${version.release.join(".")}${pre}`;
}

/**
 * One clause against a valid version, as PEP 440 (and PyPA's packaging) define it, pre-releases allowed:
 * a clause without a local label compares public versions; "<V" excludes pre-releases of V unless V is one;
 * ">V" excludes post-releases of V unless V is one, and always local versions of V.
 */
function clauseContains(version: string, clause: string): boolean {
  const [, op, target] = /^(~=|===|==|!=|<=|>=|<|>)(.*)$/.exec(clause)!;
  if (op === "===") return version.toLowerCase() === target!.toLowerCase();
  const v = parsed(version);
  if (op === "==" || op === "!=") {
    const equal = target!.endsWith(".*")
      ? prefixMatch(v, parsed(target!.slice(0, -2)))
      : compare(parsed(target!).local === null ? v.public : version, target!) === 0;
    return op === "==" ? equal : !equal;
  }
  const spec = parsed(target!);
  const order = compare(v.public, target!);
  switch (op) {
    case "<=":
      return order <= 0;
    case ">=":
      return order >= 0;
    case "<":
      // Pre-releases of V itself (V.dev0 and up) are below V but excluded, unless V is a pre-release.
      return compare(version, target!) < 0 && (spec.is_prerelease || !v.is_prerelease || compare(version, `${spec.public}.dev0`) < 0);
    case ">":
      // Post-releases of V and local versions of V are above V but excluded, unless V is a post-release.
      if (compare(version, target!) <= 0 || (v.local !== null && compare(v.public, target!) === 0)) return false;
      return spec.is_postrelease || v.post === null || compare(withoutPost(v), target!) !== 0;
    default: {
      // "~=1.4.2" is ">=1.4.2, ==1.4.*".
      const prefix = { ...spec, release: spec.release.slice(0, -1) };
      return order >= 0 && prefixMatch(v, prefix);
    }
  }
}

export function isValidSpecifier(specifier: string): boolean {
  try {
    normalizeSpecifier(specifier);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a version is in a PEP 440 specifier set. Pre-releases are allowed: this checks versions that are
 * already installed, not candidates to pick. A version that is not PEP 440 can only match "===" clauses.
 */
export function satisfies(version: string, specifier: string): boolean {
  const clauses = specifierClauses(normalizeSpecifier(specifier));
  const trimmed = version.trim();
  const valid = isValidVersion(trimmed);
  return clauses.every((clause) => (valid || clause.startsWith("===")) && clauseContains(trimmed, clause));
}
