// A shared base_dir (a 1777 dir, as a project space is): what another user planted there first is refused,
// never run; a base of one's own in it works, and everything made there is private.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, test } from "node:test";
import { RUNTIME_FILES } from "../../../src/backends/runtime.js";
import { runtimeHash } from "../../../src/remote/index.js";
import { runCli, tempProject } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";
import { requireTestbed, sshArgs, type TestBed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";

const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
});

/** A sticky world-writable dir, as an admin makes for a shared project space (removed after the tests, as root). */
function sharedDir(): string {
  const dir = scratchDir("/tmp/srshared-");
  chmodSync(dir, 0o1777);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function project(tb: TestBed, baseDir: string): string {
  const cwd = tempProject({ "work.py": "def hello():\n    return 'hello'\n", "slurmray.toml": testbedToml(tb, { baseDir }) });
  cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
  execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
  return cwd;
}

function as(tb: TestBed, user: string, command: string): string {
  const r = spawnSync("ssh", [...sshArgs(tb, user), command], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test("a runtime planted by another user in a shared base_dir is refused, and never run", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const base = sharedDir();
  const pwned = join(base, "pwned");
  const runtime = `${base}/runtime/${runtimeHash(RUNTIME_FILES)}`;
  const planted = `import pathlib\npathlib.Path(${JSON.stringify(pwned)}).write_text("ran as another user")\n`;
  as(tb, tb.user2, `umask 000 && mkdir -p '${runtime}' && for f in ${RUNTIME_FILES.join(" ")}; do printf '%s' '${planted}' > '${runtime}'/$f; done`);

  const cwd = project(tb, base);
  const r = await runCli(["run", "work.py:hello", "--json"], { cwd, timeoutMs: 120_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`${runtime.replaceAll("/", "\\/")} belongs to ${tb.user2}`));
  assert.match(r.stderr, /base_dir/);
  assert.ok(!existsSync(pwned), "the planted runner ran");
});

test("an env planted by another user in a shared base_dir is refused by env sync, and its python never run", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const base = sharedDir();
  const pwned = join(base, "pwned");
  const cwd = project(tb, base);
  const python = execFileSync(join(cwd, ".venv", "bin", "python"), ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8" }).trim();
  const env = `${base}/envs/${basename(cwd)}-py${python}`;
  const planted = `#!/bin/sh\necho planted > ${pwned}\n`;
  as(tb, tb.user2, `umask 000 && mkdir -p '${env}/bin' && printf '${planted}' > '${env}/bin/python' && chmod 755 '${env}/bin/python'`);
  const r = await runCli(["env", "sync"], { cwd, timeoutMs: 120_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`${base}/envs belongs to ${tb.user2}`));
  assert.ok(!existsSync(pwned), "the planted python ran");
});

test("a base of one's own inside a shared dir runs jobs, and what it makes there is private; corrupt caches are rebuilt", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const base = `${sharedDir()}/${tb.user}`;
  const cwd = project(tb, base);
  const cache = join(cwd, ".slurmray", "cache", "tb");
  mkdirSync(cache, { recursive: true });
  for (const name of ["remote.json", "retention.json"]) writeFileSync(join(cache, name), '{"truncated');
  const r = await runCli(["run", "work.py:hello", "--json"], { cwd, timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).result, "hello");
  assert.equal(JSON.parse(readFileSync(join(cache, "remote.json"), "utf8")).home, `/home/${tb.user}`);
  assert.equal(typeof JSON.parse(readFileSync(join(cache, "retention.json"), "utf8")).at, "number");
  // slurmray's own dirs are 0700 (what the project's files and the venv hold inside them keeps its modes);
  // nothing at all is writable by others.
  const open = as(tb, tb.user, `find '${base}' -maxdepth 4 -type d -perm /077 ! -path '*/envs/*/*' ! -path '*/code/*'`);
  assert.equal(open, "", `dirs open to others:\n${open}`);
  const writable = as(tb, tb.user, `find '${base}' -perm /022 ! -type l`);
  assert.equal(writable, "", `writable by others:\n${writable}`);
});
