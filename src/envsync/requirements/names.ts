import { RequirementError } from "./errors.js";

/** A valid project (or extra) name per PEP 508: letters and digits, with ".", "-", "_" inside. */
export const NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/** PEP 503 normalisation: "Foo_Bar.baz" -> "foo-bar-baz". Names are compared in this form only. */
export function normalizeName(name: string): string {
  const trimmed = name.trim();
  if (!isValidName(trimmed)) {
    throw new RequirementError(
      `"${name}" is not a valid project name (use letters, digits, and ".", "-", "_" between them)`,
    );
  }
  return trimmed.toLowerCase().replace(/[-_.]+/g, "-");
}
