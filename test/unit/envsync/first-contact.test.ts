// The first-contact script run by a local sh against fakes: it creates only a missing env, and otherwise
// (or when the Python on PATH made an env of another version) prints the probe's "env" section instead.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { firstContactScript } from "../../../src/envsync/apply.js";
import { parseEnvProbe, SITE_SUM } from "../../../src/envsync/remote-state.js";
import { stampLine } from "../../../src/envsync/stamp.js";
import { scratchDir } from "../../helpers/scratch.js";

const STAMP = { version: 1 as const, hash: "ab12", id: "ff00", python: "3.11", time: "2025-01-01T00:00:00Z", requirements: ["alpha==1.0"] };
const home = scratchDir("sr-first-contact-");
after(() => rmSync(home, { recursive: true, force: true }));

// A "python3.11" that is really 3.12: it reports 3.12.1 and makes venvs with lib/python3.12.
const bin = join(home, "bin");
mkdirSync(bin);
writeFileSync(
  join(bin, "python3.11"),
  `#!/bin/sh
if [ "$1" = -m ]; then mkdir -p "$3/bin" "$3/lib/python3.12" && : > "$3/bin/python" && chmod +x "$3/bin/python"; exit; fi
echo 3.12.1
`,
);
chmodSync(join(bin, "python3.11"), 0o755);

function run(envDir: string): string {
  const script = firstContactScript({ envDir, stamp: STAMP, installUv: false, install: ["alpha==1.0"], constraints: [], indexOptions: {}, python: "3.11" });
  return execFileSync("sh", ["-s"], { input: script, encoding: "utf8", env: { HOME: home, PATH: `${bin}:/usr/bin:/bin` } });
}

/** The stamp as the apply script writes it: with the checksum of the env's distribution folders. */
function writeStamp(envDir: string): typeof STAMP & { site: string } {
  const site = execFileSync("sh", ["-c", `sr_env=$1; echo "${SITE_SUM}"`, "sh", envDir], { encoding: "utf8" }).trim();
  writeFileSync(join(envDir, ".slurmray-env.json"), `${stampLine({ ...STAMP, site })}\n`);
  return { ...STAMP, site };
}

test("an env stamped with the snapshot hash: the stamp only, nothing created or locked", () => {
  const envDir = join(home, "envs", "stamped-py3.11");
  mkdirSync(join(envDir, "bin"), { recursive: true });
  mkdirSync(join(envDir, "lib", "python3.11", "site-packages", "alpha-1.0.dist-info"), { recursive: true });
  writeFileSync(join(envDir, "bin", "python"), "#!/bin/sh\n", { mode: 0o755 });
  const stamp = writeStamp(envDir);
  const probe = parseEnvProbe(run(envDir));
  assert.deepEqual(probe, { kind: "stamp", uv: null, envDir, stamp });
  assert.equal(existsSync(`${envDir}.lock`), false);
});

test("a distribution changed behind the stamp (pip install in the env): the stamp no longer vouches", () => {
  const envDir = join(home, "envs", "changed-py3.11");
  const site = join(envDir, "lib", "python3.11", "site-packages");
  mkdirSync(join(envDir, "bin"), { recursive: true });
  mkdirSync(join(site, "alpha-1.0.dist-info"), { recursive: true });
  writeFileSync(join(envDir, "bin", "python"), "#!/bin/sh\n", { mode: 0o755 });
  writeStamp(envDir);
  rmSync(join(site, "alpha-1.0.dist-info"), { recursive: true });
  mkdirSync(join(site, "alpha-1.1.dist-info"));
  // Not the stamp alone: the full-state branch runs (its fake python prints nothing, so no state follows).
  assert.doesNotMatch(run(envDir), /^stamp /m);
});

test("a Python on PATH that makes an env of another version: no half-made env, the Pythons are listed", () => {
  const envDir = join(home, "envs", "wrong-py3.11");
  const output = run(envDir);
  assert.doesNotMatch(output, /@@slurmray:apply:(created|done)@@/);
  const probe = parseEnvProbe(output);
  assert.equal(probe.kind, "missing");
  assert.deepEqual(probe.kind === "missing" && probe.pythons, [{ version: "3.12.1", path: join(bin, "python3.11") }]);
  assert.deepEqual(readdirSync(envDir), []);
  assert.equal(existsSync(`${envDir}.lock`), true, "the env family's lock, beside the env");
});
