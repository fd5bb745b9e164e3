// PEP 440 versions and specifier sets, on top of @renovatebot/pep440. Its functions throw a bare TypeError
// on invalid input, so every entry point here validates first and raises a RequirementError instead.
import { compare, satisfies as pep440Satisfies, valid, validRange } from "@renovatebot/pep440";
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

/** A specifier set in canonical form (clauses joined by ","), or a RequirementError naming the bad clause. */
export function normalizeSpecifier(specifier: string): string {
  const clauses = specifierClauses(specifier);
  for (const clause of clauses) {
    if (clause === "" || !validRange(clause)) {
      const shown = clause === "" ? specifier.trim() : clause;
      throw new RequirementError(
        `"${shown}" is not a valid version specifier (write for example ">=1.0", "==2.1.*" or ">=1,<2")`,
      );
    }
  }
  return clauses.join(",");
}

/**
 * Whether a version is in a PEP 440 specifier set. Pre-releases are allowed: this checks versions that are
 * already installed, not candidates to pick. A version that is not PEP 440 can only match "===" clauses.
 */
export function satisfies(version: string, specifier: string): boolean {
  const normalized = normalizeSpecifier(specifier);
  const trimmed = version.trim();
  if (valid(trimmed) !== null) return pep440Satisfies(trimmed, normalized, { prereleases: true });
  const clauses = specifierClauses(normalized);
  return clauses.every((c) => c.startsWith("===") && c.slice(3).toLowerCase() === trimmed.toLowerCase());
}
