// Parses and checks an entry before anything runs:
//   path/to/file.py:function   a function in a file of the project
//   package.module:function    a function in an importable module
//   path/to/script.py          script mode (arguments after --)
import { existsSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { InputError } from "../util/errors.js";

export type Entry =
  | { kind: "file"; file: string; function: string }
  | { kind: "module"; module: string; function: string }
  | { kind: "script"; file: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MODULE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

const FORMS = "expected path/to/file.py:function, package.module:function, or path/to/script.py";

/** Checks that a .py file exists inside the project and returns its path relative to the root. */
function projectFile(raw: string, file: string, cwd: string, root: string): string {
  const absolute = resolve(cwd, file);
  const inside = relative(root, absolute);
  if (inside.startsWith("..") || isAbsolute(inside)) {
    throw new InputError(`entry ${JSON.stringify(raw)}: the file is outside the project ${root}; move it into the project or run from its folder`);
  }
  if (!existsSync(absolute) || !statSync(absolute).isFile()) {
    throw new InputError(`entry ${JSON.stringify(raw)}: no such file ${absolute}`);
  }
  return inside.split(sep).join("/");
}

export function parseEntry(raw: string, cwd: string, root: string): Entry {
  const text = raw.trim();
  if (text === "" || /[\0\n]/.test(raw)) throw new InputError(`entry ${JSON.stringify(raw)}: ${FORMS}`);
  const colon = text.lastIndexOf(":");
  if (colon === -1) {
    if (!text.endsWith(".py")) throw new InputError(`entry ${JSON.stringify(raw)}: ${FORMS}`);
    return { kind: "script", file: projectFile(raw, text, cwd, root) };
  }
  const target = text.slice(0, colon);
  const fn = text.slice(colon + 1);
  if (!IDENTIFIER.test(fn)) {
    throw new InputError(`entry ${JSON.stringify(raw)}: ${JSON.stringify(fn)} is not a Python function name`);
  }
  if (target.endsWith(".py")) return { kind: "file", file: projectFile(raw, target, cwd, root), function: fn };
  if (MODULE.test(target)) return { kind: "module", module: target, function: fn };
  throw new InputError(`entry ${JSON.stringify(raw)}: ${JSON.stringify(target)} is neither a .py file nor a module name; ${FORMS}`);
}

/** The entry as the runner reads it: paths relative to the code dir. */
export function runnerEntry(entry: Entry): string {
  if (entry.kind === "script") return entry.file;
  return `${entry.kind === "file" ? entry.file : entry.module}:${entry.function}`;
}
