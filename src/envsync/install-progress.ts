// What the installer is doing, read from its output lines as they come, for the progress display only: nothing
// here decides anything (the install's result is its exit code and the env read after it). The lines are the
// target's, so untrusted: only a package name (PEP 508 characters) or a size leaves this module.
//
// What uv and pip print without a terminal (captured in test/unit/envsync/install-progress.test.ts):
// - pip: "Collecting NAME…" (or "Processing FILE" from a local dir) for each package as it resolves and
//   downloads it, then "Installing collected packages: a, b, c" and nothing per package until it ends.
// - uv: "Resolved N packages in …", "Downloading NAME (SIZE)" for each large download only, "Prepared N
//   packages" before it links them into the env, then one " + NAME==VERSION" line per package (" - " for the
//   version it replaced). `uv -v` would say more but floods stderr (a line per file linked), which the
//   install's error report reads.
import { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { normalizeName } from "./requirements/names.js";

export type InstallerLine =
  | { kind: "package"; verb: "collecting" | "downloading" | "installed"; name: string; size?: string }
  | { kind: "phase"; text: string }
  /** How many packages the lines after it name, when the installer says so (uv, just before naming them). */
  | { kind: "total"; count: number };

// ANSI escape sequences, then any other control or format character (bidi overrides, zero-width marks).
const ESCAPES = /\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-_])/g;
const CONTROLS = /[\p{Cc}\p{Cf}]/gu;

/** The line without escape sequences or control characters, as it may be shown on a terminal. */
export function printable(line: string): string {
  return line.replace(ESCAPES, "").replace(CONTROLS, "");
}

// A distribution name, ended by a version, extras, marker, "(from …)" or the end; not a URL or a path.
const NAME = "([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?=$|\\s|[=<>!~;[(@,])";
const SIZE = "(\\d+(?:\\.\\d+)?\\s?[KMGT]i?B)";
const PATTERNS: [RegExp, (m: RegExpExecArray) => InstallerLine][] = [
  [new RegExp(`^Collecting ${NAME}`), (m) => ({ kind: "package", verb: "collecting", name: m[1]! })],
  // A local file (--find-links DIR): its name comes from the file's (wheel or sdist) name.
  [/^Processing (?:\S*\/)?([A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?)-\d[^/\s]*\.(?:whl|tar\.gz|zip)\b/, (m) => ({ kind: "package", verb: "collecting", name: m[1]! })],
  [/^Installing collected packages: (.+)$/, (m) => ({ kind: "phase", text: `installing ${count(m[1]!.split(",").length)}` })],
  [/^Resolved (\d+) packages? in\b/, (m) => ({ kind: "phase", text: `resolved ${count(Number(m[1]))}` })],
  [new RegExp(`^Downloading ${NAME} \\(${SIZE}\\)$`), (m) => ({ kind: "package", verb: "downloading", name: m[1]!, size: m[2]! })],
  [/^Prepared (\d+) packages? in\b/, (m) => ({ kind: "phase", text: `installing ${count(Number(m[1]))}` })],
  [/^Installed (\d+) packages? in\b/, (m) => ({ kind: "total", count: Number(m[1]) })],
  [new RegExp(`^ [+~] ${NAME}==\\S+$`), (m) => ({ kind: "package", verb: "installed", name: m[1]! })],
];

function count(n: number): string {
  return `${n} package${n === 1 ? "" : "s"}`;
}

/** One line of uv's or pip's output, when it says what is under way; null for any other line. */
export function parseInstallerLine(raw: string): InstallerLine | null {
  const line = printable(raw).trimEnd();
  for (const [pattern, read] of PATTERNS) {
    const match = pattern.exec(line);
    if (match) return read(match);
  }
  return null;
}

/**
 * Turns installer lines into progress texts ("installed scipy (3 of 7)"). `planned` are the names of the
 * requirements the installer was given: m is how many distinct names that is, or more once the installer has
 * named more (a dependency the plan did not list), until the installer says how many it installed (uv's
 * "Installed N packages", just before it names them). A package is counted once, whatever it goes through.
 */
export class InstallProgress {
  readonly #seen = new Map<string, number>();
  #total: number;

  constructor(planned: readonly string[]) {
    this.#total = new Set(planned.map(normalizeName)).size;
  }

  /** The text for this line, or null when it says nothing to show. */
  text(raw: string): string | null {
    const line = parseInstallerLine(raw);
    if (!line) return null;
    if (line.kind === "phase") return line.text;
    if (line.kind === "total") {
      // The packages it names next are counted from one again, out of what it says.
      this.#seen.clear();
      this.#total = line.count;
      return null;
    }
    // uv announces only its large downloads: a count of those would mislead, so a download says its size.
    if (line.verb === "downloading") return `downloading ${line.name} (${line.size})`;
    const key = normalizeName(line.name);
    if (!this.#seen.has(key)) this.#seen.set(key, this.#seen.size + 1);
    return `${line.verb} ${line.name} (${this.#seen.get(key)} of ${Math.max(this.#total, this.#seen.size)})`;
  }
}

const MAX_LINE = 4096;

/** A stream to pipe the installer's output into: each complete line's progress text goes to `onText`. */
export function progressSink(planned: readonly string[], onText: (text: string) => void): Writable {
  const progress = new InstallProgress(planned);
  const decoder = new StringDecoder("utf8");
  let partial = "";
  const feed = (text: string): void => {
    const lines = (partial + text).split(/\r?\n|\r/);
    // A line that never ends is not a progress line: only its end is kept, to bound the memory.
    partial = (lines.pop() ?? "").slice(-MAX_LINE);
    for (const line of lines) {
      const said = progress.text(line);
      if (said) onText(said);
    }
  };
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      feed(decoder.write(chunk));
      callback();
    },
    final(callback) {
      feed(`${decoder.end()}\n`);
      callback();
    },
  });
}
