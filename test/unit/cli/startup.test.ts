// Starting at once: the commands that do no remote work load none of the heavy packages, and the config is
// validated by zod once per content of slurmray.toml (then taken from the validation cache), yet every change
// to the file is validated again.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../../../src/config/load.js";
import { ConfigError } from "../../../src/util/errors.js";
import { CLI, tempProject } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";

const HEAVY = ["zod", "ssh2", "@clack/prompts", "ignore", "tinyglobby", "yocto-spinner"];
const TOML = '[project]\nname = "p"\n\n[targets.cluster]\nkind = "slurm"\nhost = "login.example"\n';

/** The bare package names the CLI process imports, seen by a module resolve hook. */
function packagesLoaded(args: string[], cwd: string): string[] {
  const dir = scratchDir("srhook-");
  writeFileSync(join(dir, "hooks.mjs"), "export async function resolve(s, c, next) { if (!s.startsWith('.') && !s.startsWith('node:') && !s.startsWith('file:') && !s.startsWith('/')) process.stderr.write('LOADED ' + s + '\\n'); return next(s, c); }\n");
  writeFileSync(join(dir, "register.mjs"), `import { register } from "node:module"; register(${JSON.stringify(`file://${join(dir, "hooks.mjs")}`)});\n`);
  const r = spawnSync(process.execPath, ["--import", join(dir, "register.mjs"), CLI, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  assert.equal(r.status, 0, r.stderr);
  return [...r.stderr.matchAll(/^LOADED (.+)$/gm)].map((m) => m[1]!);
}

describe("startup", () => {
  it("--version, status and jobs load no heavy package once the config was validated", () => {
    const cwd = tempProject({ "slurmray.toml": TOML, "job.py": "def f():\n    return 1\n" });
    execFileSync(process.execPath, [CLI, "run", "job.py:f", "--target", "local", "--quiet"], { cwd, stdio: "ignore" });
    for (const args of [["--version"], ["status"], ["jobs"]]) {
      const loaded = packagesLoaded(args, cwd);
      assert.ok(loaded.includes("@commander-js/extra-typings"), "the hook sees the CLI's imports");
      assert.deepEqual(loaded.filter((name) => HEAVY.includes(name)), [], args.join(" "));
    }
  });

  it("validates slurmray.toml with zod on a change, and trusts the cache only for the text it validated", () => {
    const root = scratchDir("srcfg-");
    writeFileSync(join(root, "slurmray.toml"), TOML);
    assert.equal(loadConfig(root).targets["cluster"]?.kind, "slurm");
    const stamp = join(root, ".slurmray", "cache", "config-valid");
    assert.ok(existsSync(stamp));
    assert.equal(loadConfig(root).projectName, "p", "from the cache");
    writeFileSync(join(root, "slurmray.toml"), TOML.replace('"slurm"', '"slurmm"'));
    assert.throws(() => loadConfig(root), ConfigError);
    writeFileSync(join(root, "slurmray.toml"), TOML);
    writeFileSync(stamp, "0".repeat(64));
    loadConfig(root);
    assert.notEqual(readFileSync(stamp, "utf8"), "0".repeat(64), "a stale stamp is replaced after validating again");
  });
});
