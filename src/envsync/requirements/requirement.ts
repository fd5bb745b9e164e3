// PEP 508 requirement lines:  name [extras] (specifier | @ url) [; marker]
import { isUrl } from "./direct-url.js";
import { RequirementError } from "./errors.js";
import { parseMarker } from "./markers.js";
import { isValidName } from "./names.js";
import { normalizeSpecifier } from "./versions.js";

export interface Requirement {
  /** The project name as written; compare with normalizeName(). */
  name: string;
  extras: string[];
  /** The version specifier set in canonical form (">=1.0,<2"), "" for any version or for a URL. */
  specifier: string;
  marker: string | null;
  url: string | null;
}

const LEADING_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;

function fail(line: string, reason: string): never {
  throw new RequirementError(`invalid requirement ${JSON.stringify(line)}: ${reason}`);
}

// Re-raises a specifier or marker error with the requirement line in front, so the user sees both.
function within<T>(line: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof RequirementError) fail(line, error.detail);
    throw error;
  }
}

/** Splits "[a, b] rest" into its extras and the rest. */
function parseExtras(line: string, text: string): [string[], string] {
  if (!text.startsWith("[")) return [[], text];
  const close = text.indexOf("]");
  if (close === -1) fail(line, 'the "[" of the extras is never closed');
  const inside = text.slice(1, close).trim();
  const extras = inside === "" ? [] : inside.split(",").map((extra) => extra.trim());
  const bad = extras.find((extra) => !isValidName(extra));
  if (bad !== undefined) fail(line, `"${bad}" is not a valid extra name`);
  return [[...new Set(extras)], text.slice(close + 1).trimStart()];
}

/** Splits "; marker" into the validated marker, or null when there is none. */
function parseMarkerPart(line: string, text: string): string | null {
  if (text === "") return null;
  const marker = text.slice(1).trim();
  if (marker === "") fail(line, 'expected a marker after ";"');
  within(line, () => parseMarker(marker));
  return marker;
}

function parseUrlPart(line: string, text: string): [string, string] {
  const url = /^\S*/.exec(text)![0];
  if (url === "") fail(line, 'expected a URL after "@"');
  if (!isUrl(url)) fail(line, `"${url}" is not a URL (expected for example https://… or git+https://…)`);
  if (url.includes(";")) fail(line, 'put a space between the URL and ";"');
  const rest = text.slice(url.length).trim();
  if (rest !== "" && !rest.startsWith(";")) fail(line, `expected ";" and a marker after the URL, found "${rest}"`);
  return [url, rest];
}

function parseSpecifierPart(line: string, text: string): [string, string] {
  const semicolon = text.indexOf(";");
  let specifier = (semicolon === -1 ? text : text.slice(0, semicolon)).trim();
  const rest = semicolon === -1 ? "" : text.slice(semicolon);
  if (specifier.startsWith("(")) {
    if (!specifier.endsWith(")")) fail(line, 'the "(" around the version specifier is never closed');
    specifier = specifier.slice(1, -1);
  }
  return [within(line, () => normalizeSpecifier(specifier)), rest];
}

/** Parses one PEP 508 requirement, or throws a RequirementError that quotes it and says what is wrong. */
export function parseRequirement(line: string): Requirement {
  const text = line.trim();
  if (text === "") fail(line, "it is empty");
  const name = LEADING_NAME.exec(text)?.[0];
  if (!name) fail(line, "a requirement starts with a project name (letters, digits, and \".\", \"-\", \"_\")");
  const [extras, afterExtras] = parseExtras(line, text.slice(name.length).trimStart());
  if (afterExtras.startsWith("@")) {
    const [url, rest] = parseUrlPart(line, afterExtras.slice(1).trimStart());
    return { name, extras, specifier: "", marker: parseMarkerPart(line, rest), url };
  }
  const [specifier, rest] = parseSpecifierPart(line, afterExtras);
  return { name, extras, specifier, marker: parseMarkerPart(line, rest), url: null };
}

/** The requirement as one PEP 508 string, without its marker when `withMarker` is false. */
export function formatRequirement(requirement: Requirement, withMarker = true): string {
  const extras = requirement.extras.length > 0 ? `[${requirement.extras.join(",")}]` : "";
  const target = requirement.url ? ` @ ${requirement.url}` : requirement.specifier;
  const marker = withMarker && requirement.marker ? `${requirement.url ? " " : ""}; ${requirement.marker}` : "";
  return `${requirement.name}${extras}${target}${marker}`;
}
