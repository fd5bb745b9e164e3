// Runs the test files with node:test through tsx. Node 20's `--test` takes no globs, so we list files here.
// Usage: node scripts/run-tests.mjs [unit|integration] [extra node --test args]
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const suites = ["unit", "integration"];
const chosen = suites.includes(process.argv[2]) ? [process.argv[2]] : suites;
const extra = process.argv.slice(suites.includes(process.argv[2]) ? 3 : 2);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : name.endsWith(".test.ts") ? [path] : [];
  });
}

const files = chosen.flatMap((suite) => walk(join(root, "test", suite))).sort();
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=1", ...extra, ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: "inherit" },
);
process.exit(result.status ?? 1);
