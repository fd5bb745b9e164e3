// The first-contact script run by a local sh against fakes: it creates only a missing env, and otherwise
// (or when the Python on PATH made an env of another version) prints the probe's "env" section instead.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { firstContactScript } from "../../../src/envsync/apply.js";
import { parseEnvProbe } from "../../../src/envsync/remote-state.js";
import { stampLine } from "../../../src/envsync/stamp.js";

const STAMP = { version: 1 as const, hash: "ab12", id: "ff00", python: "3.11", time: "2025-01-01T00:00:00Z", requirements: ["alpha==1.0"] };
const home = mkdtempSync(join(tmpdir(), "sr-first-contact-"));
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
  const script = firstContactScript({ envDir, stamp: STAMP, installUv: false, install: ["alpha==1.0"], indexOptions: {}, python: "3.11" });
  return execFileSync("sh", ["-s"], { input: script, encoding: "utf8", env: { HOME: home, PATH: `${bin}:/usr/bin:/bin` } });
}

test("an env stamped with the snapshot hash: the stamp only, nothing created or locked", () => {
  const envDir = join(home, "envs", "stamped-py3.11");
  mkdirSync(join(envDir, "bin"), { recursive: true });
  writeFileSync(join(envDir, "bin", "python"), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(envDir, ".slurmray-env.json"), `${stampLine(STAMP)}\n`);
  const probe = parseEnvProbe(run(envDir));
  assert.deepEqual(probe, { kind: "stamp", uv: null, stamp: STAMP });
  assert.equal(existsSync(join(envDir, ".slurmray.lock")), false);
});

test("a Python on PATH that makes an env of another version: no half-made env, the Pythons are listed", () => {
  const envDir = join(home, "envs", "wrong-py3.11");
  const output = run(envDir);
  assert.doesNotMatch(output, /@@slurmray:apply:(created|done)@@/);
  const probe = parseEnvProbe(output);
  assert.equal(probe.kind, "missing");
  assert.deepEqual(probe.kind === "missing" && probe.pythons, [{ version: "3.12.1", path: join(bin, "python3.11") }]);
  assert.deepEqual(readdirSync(envDir), [".slurmray.lock"]);
});
