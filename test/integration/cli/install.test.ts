// Installing as a researcher does: `npm pack`, then `npm install -g` of the tarball into a clean prefix (its
// dependencies come from the npm registry), and `npm install -g .` from the clone. Either `slurmray` then runs a
// job from an unrelated project folder on the local target. The tarball holds the built code and the remote
// files, and nothing of the tests.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT, tempProject } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";

const npm = (args: string[], cwd: string) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } });

/** Runs the installed `slurmray` from a project folder that has no node_modules and is not the clone. */
function runFrom(prefix: string) {
  const cwd = tempProject({ "work.py": "def add(a, b):\n    return a + b\n" });
  return spawnSync(join(prefix, "bin", "slurmray"), ["run", "work.py:add", "--args", '{"a": 40, "b": 2}'], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
}

describe("installing slurmray", () => {
  it("npm pack holds dist/ and the remote files, no tests; its global install runs a job anywhere", { timeout: 300_000 }, () => {
    const dir = scratchDir("srpack-");
    // dist/ is built already (npm test builds first); --ignore-scripts packs it as it is instead of rebuilding.
    const [packed] = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", dir], REPO_ROOT)) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    const remoteFiles = readdirSync(join(REPO_ROOT, "src", "remote")).filter((f) => /\.(py|sh)$/.test(f)).map((f) => `dist/remote/${f}`);
    assert.ok(remoteFiles.includes("dist/remote/runner.py") && remoteFiles.includes("dist/remote/queue.py"), remoteFiles.join(" "));
    for (const file of ["dist/cli/main.js", "dist/api/index.js", ...remoteFiles, "README.md", "package.json"]) {
      assert.ok(files.includes(file), file);
    }
    assert.deepEqual(files.filter((f) => /(^|\/)(test|tests|bench)\/|\.test\.|^src\//.test(f)), []);

    const prefix = scratchDir("srprefix-");
    npm(["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", join(dir, packed!.filename)], dir);
    const r = runFrom(prefix);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "42\n");
    const help = spawnSync(join(prefix, "bin", "slurmray"), ["--help"], { encoding: "utf8" }).stdout;
    assert.match(help, /Slurm cluster,\s+a\s+shared\s+server\s+or\s+this\s+machine/);
    // Every command --help lists is one the installed package runs (--help of each exits 0).
    for (const command of [...help.matchAll(/^ {2}(\w[\w-]*) /gm)].map((m) => m[1]!).filter((c) => c !== "help")) {
      const sub = spawnSync(join(prefix, "bin", "slurmray"), [command, "--help"], { encoding: "utf8" });
      assert.equal(sub.status, 0, `${command} --help: ${sub.stderr}`);
    }
  });

  it("npm install -g . from the clone links a working slurmray", () => {
    const prefix = scratchDir("srprefix-");
    npm(["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", "."], REPO_ROOT);
    const r = runFrom(prefix);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "42\n");
  });
});
