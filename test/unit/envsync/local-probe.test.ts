// The local interpreter's probe cache (envsync/local-probe.ts), with the real python3: it is kept only while
// what the probe read cannot have changed since, so a package installed locally always reaches the snapshot.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { probeLocalEnvironment } from "../../../src/envsync/local-probe.js";
import { scratchDir } from "../../helpers/scratch.js";
import { settle } from "../../helpers/settle.js";

const saved = { PYTHONPATH: process.env["PYTHONPATH"], PYTHONUSERBASE: process.env["PYTHONUSERBASE"] };
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** A distribution importlib.metadata finds in dir. */
function fakeDistribution(dir: string, name: string): void {
  mkdirSync(join(dir, `${name}-1.0.dist-info`), { recursive: true });
  writeFileSync(join(dir, `${name}-1.0.dist-info`, "METADATA"), `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`);
}

const names = (probe: { distributions: { name: string }[] }) => probe.distributions.map((d) => d.name);

test("a sys.path dir changed while the probe ran, or just before, is not vouched for: the next run probes again", async () => {
  const cacheDir = scratchDir("sr-probe-cache-");
  const extra = scratchDir("sr-probe-path-");
  process.env["PYTHONPATH"] = extra; // made just now: racily recent
  const file = join(cacheDir, "local-env.json");
  await probeLocalEnvironment("python3", cacheDir, cacheDir);
  assert.equal(existsSync(file), false);
  settle(extra);
  await probeLocalEnvironment("python3", cacheDir, cacheDir);
  assert.ok(existsSync(file), "kept once the dir's change time is past the tick");
  fakeDistribution(extra, "slurmray-probe-late");
  assert.ok(names(await probeLocalEnvironment("python3", cacheDir, cacheDir)).includes("slurmray-probe-late"));
});

test("another PYTHONPATH is probed afresh", async () => {
  const cacheDir = scratchDir("sr-probe-cache-");
  const [a, b] = [scratchDir("sr-probe-a-"), scratchDir("sr-probe-b-")];
  fakeDistribution(b, "slurmray-probe-b");
  settle(a, b);
  process.env["PYTHONPATH"] = a;
  await probeLocalEnvironment("python3", cacheDir, cacheDir);
  assert.ok(existsSync(join(cacheDir, "local-env.json")));
  process.env["PYTHONPATH"] = b;
  assert.ok(names(await probeLocalEnvironment("python3", cacheDir, cacheDir)).includes("slurmray-probe-b"));
});

test("a user site dir that appears after the probe (a first `pip install --user`) is seen", async () => {
  const cacheDir = scratchDir("sr-probe-cache-");
  const userBase = scratchDir("sr-probe-userbase-");
  settle(userBase);
  process.env["PYTHONUSERBASE"] = userBase;
  const first = await probeLocalEnvironment("python3", cacheDir, cacheDir);
  assert.ok(first.user_site?.startsWith(userBase), "the user site is enabled and under PYTHONUSERBASE");
  assert.equal(existsSync(first.user_site!), false);
  assert.ok(JSON.parse(readFileSync(join(cacheDir, "local-env.json"), "utf8")).stats[first.user_site!] === -1, "kept, with the user site absent");
  fakeDistribution(first.user_site!, "slurmray-probe-user");
  assert.ok(names(await probeLocalEnvironment("python3", cacheDir, cacheDir)).includes("slurmray-probe-user"));
});
