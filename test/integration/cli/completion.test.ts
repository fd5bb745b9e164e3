// `slurmray completion SHELL`: each script parses in its shell, and the helper it calls answers with the
// project's targets (slurmray.toml) and job ids (the registry). bash is driven for real: the script is sourced
// and its function called as bash's completion would call it.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { listJobs } from "../../../src/jobs/registry.js";
import { CLI, runCli, tempProject } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";

const TOML = '[project]\nname = "p"\n\n[targets.cluster]\nkind = "slurm"\nhost = "login.example"\n\n[targets.box]\nkind = "local"\n';

function hasShell(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
}

/** A `slurmray` on PATH that runs this build, as the scripts call it by name. */
function binDir(): string {
  const dir = scratchDir("srbin-");
  writeFileSync(join(dir, "slurmray"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });
  return dir;
}

describe("shell completion", () => {
  const cwd = tempProject({ "slurmray.toml": TOML, "work.py": "def f():\n    return 1\n" });

  it("the helper completes commands, flags, targets from slurmray.toml and job ids from the registry", async () => {
    await runCli(["run", "work.py:f", "--target", "local"], { cwd });
    const [job] = listJobs(cwd);
    const complete = async (...words: string[]) => (await runCli(["__complete", "--", ...words], { cwd })).stdout.split("\n").filter(Boolean);
    assert.deepEqual(await complete("at"), ["attach"]);
    assert.deepEqual(await complete("run", "--target", ""), ["local", "cluster", "box"]);
    assert.deepEqual(await complete("status", ""), [job!.id]);
    assert.ok((await complete("jobs", "--")).includes("--watch"));
    // A broken config completes no target, and says nothing on the terminal.
    const broken = tempProject({ "slurmray.toml": "[project\n" });
    const r = await runCli(["__complete", "--", "run", "--target", ""], { cwd: broken });
    assert.equal(r.code, 0);
    assert.equal(r.stdout + r.stderr, "");
  });

  it("refuses an unknown shell with exit code 2", async () => {
    const r = await runCli(["completion", "tcsh"], { cwd });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Allowed choices are bash, zsh, fish/);
  });

  it("bash: the script parses, and its function fills COMPREPLY", async () => {
    const script = (await runCli(["completion", "bash"], { cwd })).stdout;
    assert.equal(spawnSync("bash", ["-n"], { input: script }).status, 0);
    const out = execFileSync(
      "bash",
      ["-c", `${script}\nCOMP_WORDS=(slurmray run --target c); COMP_CWORD=3; _slurmray; printf '%s\\n' "\${COMPREPLY[@]}"`],
      { cwd, encoding: "utf8", env: { ...process.env, PATH: `${binDir()}:${process.env["PATH"]}` } },
    );
    assert.equal(out, "cluster\n");
  });

  it("zsh and fish: the scripts parse", async (t) => {
    for (const shell of ["zsh", "fish"]) {
      if (!hasShell(shell)) {
        t.diagnostic(`${shell} not installed: its script is not checked`);
        continue;
      }
      const file = join(scratchDir("srcomp-"), `slurmray.${shell}`);
      writeFileSync(file, (await runCli(["completion", shell], { cwd })).stdout);
      const r = spawnSync(shell, ["-n", file], { encoding: "utf8" });
      assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
      if (shell === "fish") {
        // fish can be asked what it would complete, with the script loaded: targets only, no file names.
        const env = { ...process.env, PATH: `${binDir()}:${process.env["PATH"]}` };
        const out = execFileSync("fish", ["-c", `source ${file}; complete -C 'slurmray run --target '`], { cwd, encoding: "utf8", env });
        assert.deepEqual(out.split("\n").filter(Boolean).sort(), ["box", "cluster", "local"]);
      }
    }
  });
});
