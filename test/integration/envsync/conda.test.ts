// Where the snapshot comes from: a conda env (conda's distributions are matched to the same versions on the
// package index), a Python that is not a virtualenv (said once), pyproject.toml's [project].dependencies.
// Real interpreters and the hermetic wheel index; the remote is the local transport.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type SnapshotOptions, takeSnapshot } from "../../../src/envsync/snapshot.js";
import { syncEnv } from "../../../src/envsync/sync.js";
import { LocalTransport } from "../../../src/transport/local.js";
import { scratchDir } from "../../helpers/scratch.js";
import { type WheelIndex, wheelIndex } from "../../helpers/wheel-index.js";
import { SYNC_DEFAULTS } from "./suite.js";

describe("snapshot sources: conda env, non-virtualenv Python, pyproject.toml", () => {
  const root = scratchDir("sr-conda-");
  const project = join(root, "project");
  const cacheDir = join(root, "cache");
  let index: WheelIndex;
  const snapshotOptions = (python: string, extra: Partial<SnapshotOptions> = {}): SnapshotOptions => ({
    python,
    projectRoot: project,
    exclude: [],
    extra: [],
    cacheDir,
    ...extra,
  });

  before(async () => {
    index = await wheelIndex();
    mkdirSync(project);
  });
  after(async () => {
    await index.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** A conda-style env: a venv with conda-meta, alpha's INSTALLER "conda", beta's direct_url.json in a conda build dir. */
  function condaStyleEnv(): string {
    const env = join(root, "conda-env");
    execFileSync("python3", ["-m", "venv", "--without-pip", env]);
    execFileSync("uv", ["pip", "install", "--python", `${env}/bin/python`, "--index-url", index.url, "alpha==1.0", "beta==1.0"], { stdio: "ignore" });
    mkdirSync(join(env, "conda-meta"));
    const site = execFileSync(`${env}/bin/python`, ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], { encoding: "utf8" }).trim();
    writeFileSync(join(site, "alpha-1.0.dist-info", "INSTALLER"), "conda\n");
    const direct = { url: "file:///home/conda/feedstock_root/build_artifacts/beta_1700000000000/work", dir_info: {} };
    writeFileSync(join(site, "beta-1.0.dist-info", "direct_url.json"), JSON.stringify(direct));
    return env;
  }

  test("a conda env's distributions are the same versions from the index, and the remote env gets them", async () => {
    const env = condaStyleEnv();
    const snapshot = await takeSnapshot(snapshotOptions(`${env}/bin/python`));
    assert.deepEqual(snapshot.requirements, ["alpha==1.0", "beta==1.0"]);
    assert.equal(snapshot.notes?.length, 1, "a conda env is an env the user chose: no virtualenv warning");
    assert.match(snapshot.notes![0]!, /^2 package\(s\) were installed by conda \(alpha, beta\): .*\[project\] exclude.*\[project\] requirements/);

    const remote = join(root, "remote", "envs", "proj-py3.11");
    const report = await syncEnv(new LocalTransport(), {
      envDir: remote,
      snapshot: { ...snapshot, pythonVersion: "3.11" },
      ...SYNC_DEFAULTS,
      indexOptions: { indexUrl: index.url },
      cacheDir,
      targetKey: "conda",
    });
    assert.deepEqual(report.installed, ["alpha", "beta"]);
    const versions = execFileSync(`${remote}/bin/python`, ["-c", "import importlib.metadata as m; print(m.version('alpha'), m.version('beta'))"], { encoding: "utf8" });
    assert.equal(versions.trim(), "1.0 1.0");
  });

  test("a Python that is not a virtualenv gets one line saying what is mirrored and how to choose otherwise", async () => {
    const snapshot = await takeSnapshot(snapshotOptions("/usr/bin/python3"));
    const lines = (snapshot.notes ?? []).filter((w) => w.includes("not a virtualenv"));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^The project interpreter \/usr\/bin\/python3\S* is not a virtualenv: the remote env mirrors its \d+ top-level packages \(and what they require\)\. .*\.venv.*interpreter.*requirements.*pyproject\.toml/);
    // With a requirements source the interpreter's packages are not mirrored: nothing to say.
    writeFileSync(join(project, "requirements.txt"), "alpha==1.0\n");
    const fromFile = await takeSnapshot(snapshotOptions("/usr/bin/python3", { requirementsFile: "requirements.txt" }));
    assert.equal(fromFile.notes, undefined);
  });

  test('requirements = "pyproject.toml" takes [project].dependencies', async () => {
    writeFileSync(join(project, "pyproject.toml"), '[project]\nname = "demo"\ndependencies = ["alpha>=1.0", "Beta[fast]==1.0"]\n');
    const snapshot = await takeSnapshot(snapshotOptions("python3", { requirementsFile: "pyproject.toml" }));
    assert.deepEqual(snapshot.requirements, ["alpha>=1.0", "beta[fast]==1.0"]);
    assert.match(snapshot.source, /^\[project\]\.dependencies of .*pyproject\.toml$/);
    writeFileSync(join(project, "pyproject.toml"), '[project]\nname = "demo"\n');
    await assert.rejects(takeSnapshot(snapshotOptions("python3", { requirementsFile: "pyproject.toml" })), /has no \[project\]\.dependencies list/);
  });
});
