// The layering of docs/architecture.md, enforced: a folder of src/ imports only folders below it, never one
// above it and never a peer on its own level. A new folder must be given its place here (and in the doc).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../../src");

/** Higher imports lower. Folders with the same level are peers and must not import each other. */
const LEVELS: Record<string, number> = {
  cli: 9,
  api: 8,
  jobs: 7,
  doctor: 7,
  backends: 6,
  envsync: 5,
  codesync: 5,
  transport: 4,
  config: 3,
  model: 2,
  remote: 1,
  util: 0,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith(".ts") ? [path] : [];
  });
}

/** Relative module specifiers in static imports, re-exports and dynamic imports. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/g)) found.push(match[1]!);
  for (const match of text.matchAll(/\bimport\(\s*"(\.[^"]+)"\s*\)/g)) found.push(match[1]!);
  return found;
}

function folderOf(file: string): string {
  return relative(SRC, file).split("/")[0]!;
}

/** Violations among files given as absolute paths under src/ with their text. */
function violationsIn(files: readonly { path: string; text: string }[]): string[] {
  const violations: string[] = [];
  for (const { path: file, text } of files) {
    const from = folderOf(file);
    for (const specifier of importsOf(text)) {
      const to = folderOf(resolve(dirname(file), specifier));
      if (to === from) continue;
      const [a, b] = [LEVELS[from], LEVELS[to]];
      if (a === undefined || b === undefined) violations.push(`${relative(SRC, file)}: folder ${a === undefined ? from : to} has no level in LEVELS`);
      else if (b >= a) violations.push(`${relative(SRC, file)} imports ${specifier}: ${from} (level ${a}) may not import ${to} (level ${b})`);
    }
  }
  return violations;
}

test("every import in src/ runs downward between the layers", () => {
  assert.deepEqual(violationsIn(sources(SRC).map((path) => ({ path, text: readFileSync(path, "utf8") }))), []);
});

test("every folder of src/ has a level", () => {
  const folders = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());
  assert.deepEqual(folders.filter((f) => !(f in LEVELS)), []);
});

test("an upward import, a peer import and a dynamic upward import are caught", () => {
  const path = join(SRC, "backends/slurm/example.ts");
  const text = 'import type { X } from "../../jobs/types.js";\nexport { y } from "./local.js";\nimport {\n  z,\n} from "../../envsync/plan.js";';
  assert.deepEqual(violationsIn([{ path, text }]), [
    "backends/slurm/example.ts imports ../../jobs/types.js: backends (level 6) may not import jobs (level 7)",
  ]);
  const peer = { path: join(SRC, "envsync/x.ts"), text: 'import { a } from "../codesync/select.js";\nconst m = await import("../cli/main.js");' };
  assert.deepEqual(violationsIn([peer]), [
    "envsync/x.ts imports ../codesync/select.js: envsync (level 5) may not import codesync (level 5)",
    "envsync/x.ts imports ../cli/main.js: envsync (level 5) may not import cli (level 9)",
  ]);
});

/** Modules a file loads at run time: relative static imports and re-exports that are not type-only. */
function valueImportsOf(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(import|export)(\s+type)?\b[^;]*?\bfrom\s+"(\.[^"]+)"/g)) if (!match[2]) found.push(match[3]!);
  return found;
}

/** One cycle of value imports among the files (absolute paths with their text), as "a -> b -> a", or none. */
function importCycle(files: readonly { path: string; text: string }[]): string | null {
  const edges = new Map(files.map(({ path, text }) => [path, valueImportsOf(text).map((s) => resolve(dirname(path), s).replace(/\.js$/, ".ts"))]));
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): string | null => {
    state.set(file, "open");
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next].map((f) => relative(SRC, f)).join(" -> ");
      const found = state.has(next) ? null : visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(file, "done");
    return null;
  };
  for (const file of edges.keys()) {
    const found = state.has(file) ? null : visit(file);
    if (found) return found;
  }
  return null;
}

// A cycle makes a module see another half-loaded (undefined exports at load time) and ties files that should
// change apart; a type-only import is erased and does not count.
test("no cycle of run-time imports among the modules of src/", () => {
  assert.equal(importCycle(sources(SRC).map((path) => ({ path, text: readFileSync(path, "utf8") }))), null);
});

test("a cycle of run-time imports is caught, a type-only one is not", () => {
  const file = (name: string, text: string) => ({ path: join(SRC, `jobs/${name}.ts`), text });
  const cycle = [file("a", 'import { b } from "./b.js";'), file("b", 'export { c } from "./c.js";'), file("c", 'import {\n  a,\n} from "./a.js";')];
  assert.equal(importCycle(cycle), "jobs/a.ts -> jobs/b.ts -> jobs/c.ts -> jobs/a.ts");
  assert.equal(importCycle([file("a", 'import { b } from "./b.js";'), file("b", 'import type { A } from "./a.js";')]), null);
});
