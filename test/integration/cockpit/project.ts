// Projects for the cockpit tests: an empty virtualenv of their own, so a remote env needs no package index.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { tempProject } from "../../helpers/cli.js";
import { removeRemote, requireTestbed, scratchBaseDir, type TestBed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";

export function venvProject(files: Record<string, string>): string {
  const cwd = tempProject(files);
  execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
  return cwd;
}

/**
 * A project whose default target is the bed, in a scratch base_dir removed after the test; null (skipped) without
 * a bed. `projectKeys`: more lines for its [project] table.
 */
export function bedProject(t: TestContext, files: Record<string, string>, projectKeys = ""): { tb: TestBed; cwd: string; base: string } | null {
  const tb = requireTestbed(t);
  if (!tb) return null;
  const base = scratchBaseDir(tb);
  t.after(() => removeRemote(tb, [base]));
  const toml = testbedToml(tb, { baseDir: base }).replace("[project]\n", `[project]\n${projectKeys}`);
  return { tb, cwd: venvProject({ ...files, "slurmray.toml": toml }), base };
}

/** Opens the printed URL as a browser does (it answers with a cookie), then fetches `path` with that cookie. */
export async function fetchThrough(url: string, path: string): Promise<Response> {
  const login = await fetch(url, { redirect: "manual" });
  assert.equal(login.status, 303);
  assert.equal(login.headers.get("location"), "/");
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  return fetch(new URL(path, url), { headers: { cookie } });
}
