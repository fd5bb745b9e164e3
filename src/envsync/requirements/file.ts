// Requirements files as pip reads them: one requirement per line, options between them, includes (-r) and
// constraints (-c) read relative to the including file. Every error names the file and line.
import { readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { isUrl, parseDirectReference } from "./direct-url.js";
import { RequirementError } from "./errors.js";
import { type LogicalLine, logicalLines, splitLine } from "./file-lines.js";
import { isValidName } from "./names.js";
import { parseRequirement, type Requirement } from "./requirement.js";

export interface FileRequirement extends Requirement {
  /** Where the requirement was written, as "file:line". */
  source: string;
  editable?: boolean;
  /** "algorithm:hex" values from --hash options on the same line. */
  hashes?: string[];
}

export interface RequirementsFileOptions {
  indexUrl: string | null;
  extraIndexUrls: string[];
  findLinks: string[];
  /** The requirements of -c files: versions to respect, not packages to install. */
  constraints: FileRequirement[];
  noIndex: boolean;
  trustedHosts: string[];
  pre: boolean;
  noBinary: string[];
  onlyBinary: string[];
}

export interface RequirementsFile {
  requirements: FileRequirement[];
  options: RequirementsFileOptions;
}

/** What one line is being read for: where it is, and whether its file is a constraints file. */
interface LineContext {
  file: string;
  source: string;
  constraint: boolean;
  /** Absolute paths of the files being read, outermost first (to detect include cycles). */
  chain: string[];
}

interface OptionSpec {
  names: string[];
  /** Whether the option takes a value ("--index-url URL") or is a flag ("--pre"). */
  takesValue: boolean;
  apply(reader: RequirementsFileReader, value: string, context: LineContext): void;
}

const HASH_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const ARCHIVE_NAME = [/^([A-Za-z0-9._]+)-[^-]+(?:-[^-]+)?-[^-]+-[^-]+-[^-]+\.whl$/, /^(.+)-\d[^-]*\.(?:tar\.gz|tar\.bz2|zip)$/];

const list = (value: string): string[] => value.split(",").map((item) => item.trim()).filter(Boolean);

// The options a requirements file may hold. "--hash" belongs to the requirement on its line; the others
// stand on lines of their own.
const OPTIONS: OptionSpec[] = [
  { names: ["-r", "--requirement"], takesValue: true, apply: (r, v, c) => r.include(v, c, c.constraint) },
  { names: ["-c", "--constraint"], takesValue: true, apply: (r, v, c) => r.include(v, c, true) },
  { names: ["-e", "--editable"], takesValue: true, apply: (r, v, c) => r.addEditable(v, c) },
  {
    names: ["-i", "--index-url"],
    takesValue: true,
    apply: (r, v) => {
      r.options.indexUrl = v;
    },
  },
  { names: ["--extra-index-url"], takesValue: true, apply: (r, v) => void r.options.extraIndexUrls.push(v) },
  { names: ["-f", "--find-links"], takesValue: true, apply: (r, v) => void r.options.findLinks.push(v) },
  {
    names: ["--no-index"],
    takesValue: false,
    apply: (r) => {
      r.options.noIndex = true;
    },
  },
  { names: ["--trusted-host"], takesValue: true, apply: (r, v) => void r.options.trustedHosts.push(v) },
  {
    names: ["--pre"],
    takesValue: false,
    apply: (r) => {
      r.options.pre = true;
    },
  },
  { names: ["--no-binary"], takesValue: true, apply: (r, v) => void r.options.noBinary.push(...list(v)) },
  { names: ["--only-binary"], takesValue: true, apply: (r, v) => void r.options.onlyBinary.push(...list(v)) },
  { names: ["--hash"], takesValue: true, apply: () => undefined },
];
const HASH_OPTION = OPTIONS.at(-1)!;
const SUPPORTED = OPTIONS.map((option) => option.names.join("/")).join(", ");

/** Splits option words into (option, value) pairs: "--opt value", "--opt=value", "-o value", "-ovalue". */
function parseOptions(words: string[], source: string): [OptionSpec, string][] {
  const parsed: [OptionSpec, string][] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    const long = word.startsWith("--");
    const split = long ? word.indexOf("=") : word.length > 2 ? 2 : -1;
    const name = split === -1 ? word : word.slice(0, split);
    const inline = split === -1 ? null : word.slice(long ? split + 1 : split);
    const spec = OPTIONS.find((option) => option.names.includes(name));
    if (!spec) throw new RequirementError(`unknown option "${name}" (supported: ${SUPPORTED})`, source);
    if (!spec.takesValue && inline !== null) throw new RequirementError(`"${name}" takes no value`, source);
    const value = spec.takesValue ? (inline ?? words[++index]) : "";
    if (value === undefined || (spec.takesValue && value === "")) {
      throw new RequirementError(`"${name}" needs a value`, source);
    }
    parsed.push([spec, value]);
  }
  return parsed;
}

function checkHash(value: string, source: string): string {
  const [algorithm = "", hex = ""] = value.split(":");
  const length = HASH_LENGTHS[algorithm];
  if (length === undefined) {
    throw new RequirementError(`unsupported hash "${value}" (use sha256:, sha384: or sha512: and the hex digest)`, source);
  }
  if (!new RegExp(`^[0-9a-f]{${length}}$`).test(hex)) {
    throw new RequirementError(`"${value}" is not a ${algorithm} digest (${length} hex digits expected)`, source);
  }
  return value;
}

/** The project name a bare URL names: its "#egg=", or its wheel or sdist file name. */
function nameOfUrl(url: string): string | null {
  const { egg, url: base } = parseDirectReference(url);
  if (egg) return egg;
  const file = base.split("/").at(-1) ?? "";
  for (const pattern of ARCHIVE_NAME) {
    const match = pattern.exec(file);
    if (match) return match[1]!;
  }
  return null;
}

/** Parses a requirement line: PEP 508, or a bare URL whose name can be told ("git+https://…#egg=name"). */
function parseLineRequirement(text: string, source: string): Requirement {
  const firstWord = text.split(/\s/)[0]!;
  if (/^(?:\.{1,2}\/|\/|~)/.test(firstWord)) {
    throw new RequirementError(
      `"${firstWord}" is a local path; install a local project with -e, or write "name @ https://…"`,
      source,
    );
  }
  try {
    if (!isUrl(firstWord)) return parseRequirement(text);
    const name = nameOfUrl(firstWord);
    if (!name || !isValidName(name)) {
      throw new RequirementError(`cannot tell the project name of "${firstWord}": write "name @ ${firstWord}" or add "#egg=name"`);
    }
    return parseRequirement(`${name} @ ${text}`);
  } catch (error) {
    if (error instanceof RequirementError) throw new RequirementError(error.detail, source);
    throw error;
  }
}

/** Splits a trailing "[extra,…]" off an editable target ("-e .[dev]"). */
function splitExtras(target: string, source: string): [string, string[]] {
  const match = /^(.*?)\[([^\]]*)\]$/.exec(target);
  if (!match) return [target, []];
  const extras = list(match[2]!);
  const bad = extras.find((extra) => !isValidName(extra));
  if (bad !== undefined) throw new RequirementError(`"${bad}" is not a valid extra name`, source);
  return [match[1]!, extras];
}

class RequirementsFileReader {
  readonly requirements: FileRequirement[] = [];
  readonly options: RequirementsFileOptions = {
    indexUrl: null,
    extraIndexUrls: [],
    findLinks: [],
    constraints: [],
    noIndex: false,
    trustedHosts: [],
    pre: false,
    noBinary: [],
    onlyBinary: [],
  };

  /** Reads one file; `from` is the line that included it (null for the top-level file). */
  read(file: string, constraint: boolean, chain: string[], from: LineContext | null): void {
    let content: string;
    try {
      content = readFileSync(file, "utf8");
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
      throw new RequirementError(`cannot read requirements file "${file}": ${reason}`, from?.source ?? null);
    }
    const nextChain = [...chain, resolve(file)];
    for (const line of logicalLines(content)) {
      this.readLine(line, { file, source: `${file}:${line.lineNumber}`, constraint, chain: nextChain });
    }
  }

  private readLine(line: LogicalLine, context: LineContext): void {
    const { requirement, options: words } = splitLine(line.text);
    const options = parseOptions(words, context.source);
    if (requirement === "") {
      if (options.some(([spec]) => spec === HASH_OPTION)) {
        throw new RequirementError('"--hash" must follow a requirement on the same line', context.source);
      }
      for (const [spec, value] of options) spec.apply(this, value, context);
      return;
    }
    const misplaced = options.find(([spec]) => spec !== HASH_OPTION);
    if (misplaced) {
      throw new RequirementError(
        `"${misplaced[0].names.at(-1)}" cannot share a line with a requirement; put it on a line of its own`,
        context.source,
      );
    }
    const hashes = options.map(([, value]) => checkHash(value, context.source));
    const parsed = parseLineRequirement(requirement, context.source);
    this.add({ ...parsed, source: context.source, ...(hashes.length > 0 ? { hashes } : {}) }, context);
  }

  private add(requirement: FileRequirement, context: LineContext): void {
    if (!context.constraint) {
      this.requirements.push(requirement);
      return;
    }
    if (requirement.editable) throw new RequirementError("-e is not allowed in a constraints file", context.source);
    if (requirement.extras.length > 0) {
      throw new RequirementError(`a constraint cannot have extras ("${requirement.name}[…]")`, context.source);
    }
    this.options.constraints.push(requirement);
  }

  include(target: string, context: LineContext, constraint: boolean): void {
    if (isUrl(target)) {
      throw new RequirementError(`cannot include "${target}": only local files can be included`, context.source);
    }
    const file = isAbsolute(target) ? target : join(dirname(context.file), target);
    if (context.chain.includes(resolve(file))) {
      const cycle = [...context.chain.slice(context.chain.indexOf(resolve(file))), resolve(file)].map((p) => basename(p));
      throw new RequirementError(`"${target}" is already being read: the includes form a cycle (${cycle.join(" -> ")})`, context.source);
    }
    this.read(file, constraint, context.chain, context);
  }

  addEditable(target: string, context: LineContext): void {
    const [location, extras] = splitExtras(target, context.source);
    const reference = parseDirectReference(location);
    if (reference.vcs !== null) {
      if (reference.egg === null) {
        throw new RequirementError(`-e ${location}: add "#egg=name" so the project name is known`, context.source);
      }
      this.addEditableAs(reference.egg, extras, location, context);
      return;
    }
    if (isUrl(location) && !location.startsWith("file:")) {
      throw new RequirementError(`-e needs a local directory or a VCS URL (git+…, hg+…, svn+…, bzr+…), got "${target}"`, context.source);
    }
    // A local directory, made absolute against the including file's folder (so "-e ." names that folder).
    // Without "#egg=" it is named after the directory: its real name lives in its own metadata.
    const directory = resolve(dirname(context.file), reference.url.replace(/^file:(\/\/)?/, ""));
    this.addEditableAs(reference.egg ?? basename(directory), extras, directory, context);
  }

  private addEditableAs(name: string, extras: string[], url: string, context: LineContext): void {
    if (!isValidName(name)) {
      throw new RequirementError(`-e ${url}: cannot tell the project name; add "#egg=name"`, context.source);
    }
    this.add({ name, extras, specifier: "", marker: null, url, source: context.source, editable: true }, context);
  }
}

/**
 * Reads a requirements file (pip's format) and the files it includes. Throws a RequirementError naming
 * "file:line" and the reason for the first line that cannot be understood.
 */
export function parseRequirementsFile(path: string): RequirementsFile {
  const reader = new RequirementsFileReader();
  reader.read(path, false, [], null);
  return { requirements: reader.requirements, options: reader.options };
}
