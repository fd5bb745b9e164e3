// takeSnapshot over a fake interpreter: a sh script that prints a canned envprobe.py answer and counts its
// runs, so the selection rules and the cache are checked without a real Python environment.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import type { ProbedDistribution } from "../../../src/envsync/distributions.js";
import { type SnapshotOptions, snapshotHash, takeSnapshot } from "../../../src/envsync/snapshot.js";
import { scratchDir } from "../../helpers/scratch.js";
import { settle } from "../../helpers/settle.js";

const root = scratchDir("sr-snap-");
const project = join(root, "project");
const site = join(root, "site-packages");
mkdirSync(project);
mkdirSync(site);
writeFileSync(join(project, "pyproject.toml"), '[project]\nname = "My_Project"\n');
after(() => rmSync(root, { recursive: true, force: true }));

const dist = (name: string, version: string, requires: string[] = [], direct_url: ProbedDistribution["direct_url"] = null) => ({
  name,
  version,
  requires,
  direct_url,
});
const DISTS = [
  dist("My_Project", "0.1", ["numpy>=1"]),
  dist("numpy", "1.26.4"),
  dist("sub-pkg", "0.2", [], { url: pathToFileURL(join(project, "libs/sub")).href, dir_info: { editable: true } }),
  dist("libout", "2.0", [], { url: "file:///elsewhere/libout", dir_info: { editable: true } }),
  dist("Flask", "3.0", ["Werkzeug>=3", "click"]),
  dist("Werkzeug", "3.0"),
  dist("click", "8.1"),
  dist("pip", "24.0"),
  dist("gitpkg", "1.0", [], { url: "https://g.example/x", vcs_info: { vcs: "git", commit_id: "abc123", requested_revision: "main" } }),
  dist("localwheel", "1.2", [], { url: "file:///tmp/localwheel-1.2-py3-none-any.whl", archive_info: {} }),
  dist("tool", "1.0", ["ray>=2"]),
  dist("ray", "2.9"),
];

let counter = 0;
/** A fake interpreter answering with `dists`; returns its path and a function counting its runs. */
function fakePython(dists: object[]): { python: string; runs: () => number } {
  const dir = join(root, `py${++counter}`);
  mkdirSync(dir);
  const answer = { python: "3.11.4", executable: join(dir, "python"), markers: { sys_platform: "linux" }, distributions: dists, path: [site] };
  writeFileSync(join(dir, "answer.json"), JSON.stringify(answer));
  writeFileSync(join(dir, "python"), `#!/bin/sh\necho run >> "${dir}/runs"\ncat "${dir}/answer.json"\n`);
  chmodSync(join(dir, "python"), 0o755);
  const runs = () => {
    try {
      return readFileSync(join(dir, "runs"), "utf8").split("\n").filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  return { python: join(dir, "python"), runs };
}

const base = (python: string, extra: Partial<SnapshotOptions> = {}): SnapshotOptions => ({
  python,
  projectRoot: project,
  exclude: [],
  extra: [],
  cacheDir: join(root, `cache-${counter}`),
  ...extra,
});

test("parity: top-level distributions are requirements, every other one a constraint; not the project, its in-project editables, or the env's tooling", async () => {
  const { python } = fakePython(DISTS);
  const snapshot = await takeSnapshot(base(python, { extra: ["ray", "cloudpickle"], exclude: ["LocalWheel"] }));
  assert.deepEqual(snapshot.requirements, [
    "cloudpickle",
    "flask==3.0",
    "gitpkg @ git+https://g.example/x@abc123",
    "numpy==1.26.4", // required by the project only, which travels as code
    "ray==2.9",
    "tool==1.0",
  ]);
  assert.deepEqual(snapshot.constraints, ["click==8.1", "werkzeug==3.0"]);
  assert.deepEqual(snapshot.dependencies?.["flask"], ["Werkzeug>=3", "click"]);
  assert.deepEqual(snapshot.editablesOutside, ["libout"]);
  assert.equal(snapshot.pythonVersion, "3.11");
  assert.equal(snapshot.hash, snapshotHash("3.11", snapshot.requirements, snapshot.constraints));
  assert.equal(snapshot.notes, undefined);
  assert.match(snapshot.source, /^distributions of /);
});

test("strict_versions = false: the requirements alone, no constraints, another hash", async () => {
  const { python } = fakePython(DISTS);
  const strict = await takeSnapshot(base(python));
  const loose = await takeSnapshot(base(python, { strictVersions: false }));
  assert.deepEqual(loose.requirements, strict.requirements);
  assert.equal(loose.constraints, undefined);
  assert.notEqual(loose.hash, strict.hash);
});

test("an excluded name is neither a requirement nor a constraint", async () => {
  const { python } = fakePython(DISTS);
  const snapshot = await takeSnapshot(base(python, { exclude: ["click", "tool"] }));
  assert.deepEqual(snapshot.constraints, ["ray==2.9", "werkzeug==3.0"]);
  assert.ok(!snapshot.requirements.some((line) => line.startsWith("tool")));
});

test("the former snapshot setting is accepted with a note; parity either way", async () => {
  const { python } = fakePython(DISTS);
  const plain = await takeSnapshot(base(python));
  for (const mode of ["top-level", "full"] as const) {
    const snapshot = await takeSnapshot(base(python, { mode }));
    assert.deepEqual([snapshot.requirements, snapshot.constraints, snapshot.hash], [plain.requirements, plain.constraints, plain.hash]);
    assert.deepEqual(snapshot.notes, [
      `project.snapshot = "${mode}" no longer changes anything: the remote env holds the local version of every distribution; remove the setting`,
    ]);
  }
});

test("the hash changes with the requirements and with the Python major.minor", () => {
  assert.equal(snapshotHash("3.11", ["a==1"]), snapshotHash("3.11", ["a==1"]));
  assert.notEqual(snapshotHash("3.11", ["a==1"]), snapshotHash("3.11", ["a==1.1"]));
  assert.notEqual(snapshotHash("3.11", ["a==1"]), snapshotHash("3.12", ["a==1"]));
});

test("unchanged site-packages: no interpreter run; a changed one is probed again", async () => {
  const { python, runs } = fakePython(DISTS);
  settle(python, site); // made just now: a probe of what changed within the clock's tick is not kept
  const options = base(python);
  const first = await takeSnapshot(options);
  const second = await takeSnapshot(options);
  assert.equal(runs(), 1);
  assert.deepEqual(second, first);
  utimesSync(site, new Date(), new Date(Date.now() + 5000)); // a package installed or removed
  await takeSnapshot(options);
  assert.equal(runs(), 2);
});

test("a requirements file: its lines, editables inside the project left out, outside ones reported, index options kept", async () => {
  const { python } = fakePython(DISTS);
  writeFileSync(
    join(project, "requirements.txt"),
    ["--index-url http://index.example/simple", "Alpha_Pkg==1.0  # pinned", "-e ./libs/sub", "-e ../outside-lib", 'beta[fast]>=1; python_version >= "3.8"'].join("\n"),
  );
  const snapshot = await takeSnapshot(base(python, { requirementsFile: "requirements.txt", exclude: ["beta"] }));
  assert.deepEqual(snapshot.requirements, ["alpha-pkg==1.0"]);
  assert.deepEqual(snapshot.editablesOutside, ["outside-lib"]);
  assert.deepEqual(snapshot.indexOptions, { indexUrl: "http://index.example/simple" });
  assert.match(snapshot.source, /^requirements file .*requirements\.txt$/);
  const withBeta = await takeSnapshot(base(python, { requirementsFile: "requirements.txt" }));
  assert.ok(withBeta.requirements.includes('beta[fast]>=1; python_version >= "3.8"'), String(withBeta.requirements));
});

test("an invalid requirements file line is an input error naming file:line", async () => {
  const { python } = fakePython(DISTS);
  writeFileSync(join(project, "bad.txt"), "alpha==1.0\nbeta===\n");
  await assert.rejects(takeSnapshot(base(python, { requirementsFile: "bad.txt" })), /bad\.txt:2: /);
});

test("a legacy version that is not PEP 440 is pinned by string (===)", async () => {
  const { python } = fakePython([dist("app", "1.0", ["legacy"]), dist("legacy", "2004d")]);
  const snapshot = await takeSnapshot(base(python));
  assert.deepEqual([snapshot.requirements, snapshot.constraints], [["app==1.0"], ["legacy===2004d"]]);
});
