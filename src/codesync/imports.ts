// The import check: code that runs locally but fails remotely because a project module was not shipped.
// Runs remote/importcheck.py with the project interpreter, locally, over the selected files.
import { spawnSync } from "node:child_process";
import { remoteFile } from "../remote/index.js";
import { InputError } from "../util/errors.js";
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
}

export function checkImports(options: CheckImportsOptions): ImportWarning[] {
  const input = Buffer.concat(options.selected.map((p) => Buffer.concat([encodeName(p), Buffer.from([0])])));
  const run = spawnSync(options.python, [remoteFile("importcheck.py"), options.root, options.entryFile], {
    input,
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  if (run.error || run.status !== 0) {
    const why = run.error?.message ?? run.stderr.trim().split("\n").slice(-3).join("\n");
    throw new InputError(`The import check could not run with ${options.python}: ${why}`);
  }
  return (JSON.parse(run.stdout) as { warnings: ImportWarning[] }).warnings;
}

export interface FunctionStatus {
  /** "star": not bound by name, but a star import might bind it. */
  function: "defined" | "missing" | "star" | "unparsable";
  /** For "missing": the public names the file binds; for "unparsable": the syntax error. */
  detail: string;
}

/** Whether `name` is bound at the top level of `file` (relative to root), read by AST without running it. */
export function functionStatus(python: string, root: string, file: string, name: string): FunctionStatus {
  const run = spawnSync(python, [remoteFile("importcheck.py"), "--function", name, root, file], { encoding: "utf8", timeout: 60_000 });
  if (run.error || run.status !== 0) {
    const why = run.error?.message ?? run.stderr.trim().split("\n").slice(-3).join("\n");
    throw new InputError(`The entry check could not run with ${python}: ${why}`);
  }
  return JSON.parse(run.stdout) as FunctionStatus;
}

/** One line per warning, for the CLI. */
export function formatImportWarning(w: ImportWarning): string {
  const where = `${displayName(w.file)}:${w.line}`;
  if (w.kind === "dynamic") return `${where}: dynamic import of ${w.module} not checked`;
  return `${where}: imports ${w.module}, but ${displayName(w.path ?? w.module)} is not shipped (ignored by .gitignore/.slurmrayignore/exclude; add it to \`files\`)`;
}
