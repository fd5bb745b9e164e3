// A corrupt or tampered cache is discarded (and so rebuilt by its caller), never a raw SyntaxError, and
// never a way to name a file outside the project.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { localManifest, sha256 } from "../../../src/codesync/manifest.js";
import { SelectionCache } from "../../../src/codesync/select-cache.js";
import { envCachePath, readEnvCache } from "../../../src/envsync/cache.js";
import { probeLocalEnvironment } from "../../../src/envsync/local-probe.js";
import { readOutcome, resultForDisplay } from "../../../src/model/outcome.js";
import { readCache } from "../../../src/util/json-file.js";
import { scratchDir } from "../../helpers/scratch.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = scratchDir("sr-caches-");
  dirs.push(d);
  return d;
}

test("readCache: a file that is not JSON, or of the wrong shape, is removed and reads as missing", () => {
  const d = dir();
  const check = (v: unknown) => {
    if (typeof v !== "number") throw new Error("expected a number");
    return v;
  };
  for (const content of ["{ truncated", '"a string"']) {
    const file = join(d, "c.json");
    writeFileSync(file, content);
    assert.equal(readCache(file, check), null);
    assert.ok(!existsSync(file), "removed, so it is rebuilt");
  }
  writeFileSync(join(d, "ok.json"), "42");
  assert.equal(readCache(join(d, "ok.json"), check), 42);
});

test("the env cache: a corrupt entry is discarded", () => {
  const key = { cacheDir: dir(), targetKey: "tb", envDir: "/h/.slurmray/envs/p-py3.11" };
  mkdirSync(join(key.cacheDir, "tb"), { recursive: true });
  writeFileSync(envCachePath(key), JSON.stringify({ stampId: "x", state: "not a state" }));
  assert.equal(readEnvCache(key), null);
  assert.ok(!existsSync(envCachePath(key)));
});

test("the local interpreter's probe cache: a corrupt one is probed afresh", async () => {
  const cacheDir = dir();
  const file = join(cacheDir, "local-env.json");
  writeFileSync(file, JSON.stringify({ version: 1, python: "x", probeHash: "y", stats: 5, probe: {} }));
  const probed = await probeLocalEnvironment("python3", cacheDir, cacheDir);
  assert.match(probed.python, /^3\./);
  assert.equal(JSON.parse(readFileSync(file, "utf8")).probe.python, probed.python);
});

test("the hash cache: a corrupt file is rebuilt from the files", () => {
  const root = dir();
  const cache = dir();
  writeFileSync(join(root, "a.py"), "print(1)\n");
  const selection = { files: [{ path: "a.py", size: 9, ctimeMs: 0, ino: 0, mode: 0o644 }], symlinks: [], skippedLinks: [], warnings: [], reused: false };
  const corrupt = [
    '{"version":2,"files":{"a.py":"garbage"}}',
    '{"version":3,"paths":["a.py"],"stats":[9,0],"sha":""}',
    // The right shape, the stats of the file, and a hash that is not one.
    JSON.stringify({ version: 3, paths: ["a.py"], stats: [9, 0, 0], sha: `${"z".repeat(63)}\n` }),
  ];
  for (const text of corrupt) {
    writeFileSync(join(cache, "codesync-hashes.json"), text);
    const [entry] = localManifest(root, selection, cache);
    assert.equal(entry!.sha256, sha256("print(1)\n"), text);
  }
});

test("the selection cache: a path leading outside the project is never returned", () => {
  const root = dir();
  const cacheDir = dir();
  const cache = new SelectionCache(cacheDir, root, []);
  cache.write(["a.py"], [], new Map(), Date.now() + 10_000);
  const file = join(cacheDir, "codesync-selection.json");
  const saved = JSON.parse(readFileSync(file, "utf8")) as { paths: string[] };
  assert.deepEqual(new SelectionCache(cacheDir, root, []).read()?.paths, ["a.py"]);
  writeFileSync(file, JSON.stringify({ ...saved, paths: ["../../etc/passwd"] }));
  assert.equal(new SelectionCache(cacheDir, root, []).read(), null);
});

test("a truncated or foreign result.json / error.json is named, never a raw SyntaxError", async () => {
  const files: Record<string, string> = { "/j/result.json": '{"value": [1, 2', "/j/error.json": '{"type": 1}' };
  const read = async (path: string) => files[path] ?? null;
  await assert.rejects(readOutcome("/j", read), /\/j\/(result|error)\.json on the target is not what the runner writes/);
  files["/j/result.json"] = '{"value": [1, 2]}';
  delete files["/j/error.json"];
  const outcome = await readOutcome("/j", read);
  assert.deepEqual([resultForDisplay(outcome.result), outcome.error], [[1, 2], null]);
});
