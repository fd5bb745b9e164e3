// The import check: code that runs locally but fails remotely because a project module was not shipped.
// Runs remote/importcheck.py with the project interpreter, locally, over the selected files.
// Its answers (and the entry check's) are cached: see checks-cache.ts.
import { spawnSync } from "node:child_process";
import { remoteFile } from "../remote/index.js";
import { InputError } from "../util/errors.js";
import { isObject } from "../util/json-file.js";
import { cachedCheck } from "./checks-cache.js";
import { displayName, encodeName } from "./names.js";

export interface ImportWarning {
  /** "missing": a project module imported but not selected; "dynamic": an import that cannot be followed. */
  kind: "missing" | "dynamic";
  /** The importing file, relative to the project root. */
  file: string;
  line: number;
  /** The module name (for dynamic imports: the argument as written). */
  module: string;
  /** For "missing": the module's file, relative to the project root. */
  path?: string;
}

export interface CheckImportsOptions {
  /** The project interpreter. */
  python: string;
  root: string;
  /** The entry's file, relative to root. */
  entryFile: string;
  /** The selected paths, relative to root. */
  selected: readonly string[];
  /** Where answers are cached (the project's cache dir); no cache when absent. */
  cacheDir?: string;
}

export function checkImports(options: CheckImportsOptions): ImportWarning[] {
  const input = Buffer.concat(options.selected.map((p) => Buffer.concat([encodeName(p), Buffer.from([0])])));
  const valid = (answer: Record<string, unknown>) => Array.isArray(answer["warnings"]) && answer["warnings"].every(isWarning);
  return runImportCheck<{ warnings: ImportWarning[] }>("import check", options.python, [options.root, options.entryFile], input, options.cacheDir, valid).warnings;
}

const FUNCTION_STATES = ["defined", "missing", "star", "unparsable"];

/** How a function takes keyword arguments, as its `def` says. */
export interface Parameters {
  /** The names a keyword argument can give. */
  names: string[];
  /** Those without a default. */
  required: string[];
  /** Required ones only a position can give (before `/`): keyword arguments never can. */
  positional_only: string[];
  /** Whether it has **kwargs. */
  any: boolean;
}

export interface FunctionStatus {
  /** "star": not bound by name, but a star import might bind it. */
  function: "defined" | "missing" | "star" | "unparsable";
  /** For "missing": the public names the file binds; for "unparsable": the syntax error. */
  detail: string;
  /** For "defined" by one undecorated `def` and nothing else: its parameters; else null (not checked). */
  parameters: Parameters | null;
}

const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((name) => typeof name === "string");

function isParameters(v: unknown): v is Parameters | null {
  return v === null || (isObject(v) && isNames(v["names"]) && isNames(v["required"]) && isNames(v["positional_only"]) && typeof v["any"] === "boolean");
}

/** Whether `name` is bound at the top level of `file` (relative to root), and how it takes arguments: read by AST without running it. */
export function functionStatus(python: string, root: string, file: string, name: string, cacheDir?: string): FunctionStatus {
  const valid = (answer: Record<string, unknown>) =>
    FUNCTION_STATES.includes(answer["function"] as string) && typeof answer["detail"] === "string" && isParameters(answer["parameters"] ?? null);
  const answer = runImportCheck<FunctionStatus>("entry check", python, ["--function", name, root, file], Buffer.alloc(0), cacheDir, valid);
  return { function: answer.function, detail: answer.detail, parameters: answer.parameters ?? null };
}

/** importcheck.py's answer for these arguments and stdin: from the cache while its inputs hold, else run. */
function runImportCheck<T>(what: string, python: string, args: string[], input: Buffer, cacheDir: string | undefined, valid: (answer: Record<string, unknown>) => boolean): T {
  const script = remoteFile("importcheck.py");
  return cachedCheck<T>({ cacheDir, python, script, args, input, valid }, () => {
    const run = spawnSync(python, [script, ...args], { input, encoding: "utf8", timeout: 60_000, maxBuffer: 64 << 20 });
    if (run.error || run.status !== 0) {
      const why = run.error?.message ?? run.stderr.trim().split("\n").slice(-3).join("\n");
      throw new InputError(`The ${what} could not run with ${python}: ${why}`);
    }
    return JSON.parse(run.stdout) as T & { inputs: unknown };
  });
}

function isWarning(w: unknown): boolean {
  if (!isObject(w) || (w["kind"] !== "missing" && w["kind"] !== "dynamic")) return false;
  return typeof w["file"] === "string" && typeof w["line"] === "number" && typeof w["module"] === "string" && (w["path"] === undefined || typeof w["path"] === "string");
}

/** One line per warning, for the CLI. */
export function formatImportWarning(w: ImportWarning): string {
  const where = `${displayName(w.file)}:${w.line}`;
  if (w.kind === "dynamic") return `${where}: dynamic import of ${w.module} not checked`;
  return `${where}: imports ${w.module}, but ${displayName(w.path ?? w.module)} is not shipped (ignored by .gitignore/.slurmrayignore/exclude; add it to \`files\`)`;
}
