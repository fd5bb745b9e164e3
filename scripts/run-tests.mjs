// Runs the test files with node:test through tsx. Node 20's `--test` takes no globs, so we list files here.
// Usage: node scripts/run-tests.mjs [unit|integration] [extra node --test args]
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
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

/** Makes every dir under path writable (the local target's code trees are read-only), so it can be removed. */
function writable(path) {
  chmodSync(path, 0o700);
  for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) writable(join(path, entry.name));
}

// The local target keeps its code store in $XDG_CACHE_HOME/slurmray: the tests' own, removed at the end, not
// the user's. pip's and uv's caches stay where they were, as deliberate caches.
const cache = mkdtempSync(join(tmpdir(), "sr-test-cache-"));
const home = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
const env = { ...process.env, XDG_CACHE_HOME: cache, PIP_CACHE_DIR: process.env.PIP_CACHE_DIR || join(home, "pip"), UV_CACHE_DIR: process.env.UV_CACHE_DIR || join(home, "uv") };

// Integration files first: they are the long ones, and the short unit files fill the gaps at the end.
const files = [...chosen].reverse().flatMap((suite) => walk(join(root, "test", suite)).sort()).map((f) => relative(root, f));
// Installing from the clone as a user does (`npm install -g .`) runs the package's `prepare`, which rebuilds
// dist/ in place: no other test may run the CLI from dist/ meanwhile, so this file runs alone, afterwards.
const ALONE = ["test/integration/cli/install.test.ts"];

/** Runs test files through node:test, `concurrency` files at once; its exit status. */
function runFiles(list, concurrency) {
  if (list.length === 0) return 0;
  const args = ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...extra, ...list];
  return spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env }).status ?? 1;
}

// Three files at once: an integration test mostly waits on the bed (Slurm, sshd, a job), so on two cores
// three at once took 514 s where one at a time took 1118 s. The tests share one bed and make no
// assumption about what else runs on it (which node a job lands on, what else is queued).
const together = runFiles(files.filter((f) => !ALONE.includes(f)), 3);
const alone = runFiles(files.filter((f) => ALONE.includes(f)), 1);
writable(cache);
rmSync(cache, { recursive: true, force: true });
process.exit(together || alone);
