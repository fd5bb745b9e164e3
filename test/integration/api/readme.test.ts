// The README's TypeScript example, taken from README.md as it is, type-checked against the built package
// and run on the local target: it must print what the README says it prints.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { REPO_ROOT, tempProject } from "../../helpers/cli.js";

/** The first fenced block of `language` after `heading` in README.md. */
function readmeBlock(heading: string, language: string): string {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf(heading));
  const m = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(section);
  assert.ok(m, `no ${language} block after ${heading} in README.md`);
  return m[1]!;
}

const HEADING = "## Using it from TypeScript";

describe("the README's library example", () => {
  const cwd = tempProject({ "calc.py": readmeBlock(HEADING, "python"), "example.mts": readmeBlock(HEADING, "ts") });
  // The package as an installed dependency of the project: `import "slurmray"` resolves to this build.
  mkdirSync(join(cwd, "node_modules"));
  symlinkSync(REPO_ROOT, join(cwd, "node_modules", "slurmray"));
  writeFileSync(join(cwd, "package.json"), '{"type": "module"}\n');
  after(() => rmSync(cwd, { recursive: true, force: true }));

  it("type-checks against the package's declarations", () => {
    const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    const options = ["--noEmit", "--strict", "--module", "nodenext", "--target", "es2022", "--skipLibCheck"];
    execFileSync(process.execPath, [tsc, ...options, "--typeRoots", join(REPO_ROOT, "node_modules", "@types"), "--types", "node", "example.mts"], { cwd, encoding: "utf8" });
  });

  it("runs on the local target and prints what the README says", () => {
    const tsx = join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
    const stdout = execFileSync(process.execPath, [tsx, "example.mts"], { cwd, encoding: "utf8", timeout: 120_000 });
    assert.deepEqual(stdout.trim().split("\n"), [
      "49",
      "true 0 COMPLETED 1",
      "true 1 COMPLETED 4",
      "true 2 COMPLETED 9",
      "squaring 5",
      "COMPLETED 25",
      "failed with exit code 1: ValueError: bad value",
    ]);
  });
});
