// ray_cluster.py's pieces that need no Ray cluster: the per-job token (or the warning for Ray without token
// auth), and a start failure that becomes the job's error.json.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { remoteFile } from "../../../src/remote/index.js";
import { scratchDir } from "../../helpers/scratch.js";

function rayCluster(args: string[], env: Record<string, string> = {}) {
  return spawnSync("python3", [remoteFile("ray_cluster.py"), ...args], { encoding: "utf8", env: { ...process.env, ...env } });
}

/** A folder for PYTHONPATH that makes importlib.metadata see ray at `version`. */
function fakeRayDistribution(version: string): string {
  const dir = scratchDir("srfakeray-");
  mkdirSync(join(dir, `ray-${version}.dist-info`));
  writeFileSync(join(dir, `ray-${version}.dist-info`, "METADATA"), `Metadata-Version: 2.1\nName: ray\nVersion: ${version}\n`);
  return dir;
}

test("with Ray 2.52 or later, `token` writes a fresh 64-hex-digit token readable by the owner only", () => {
  const job = scratchDir("srjob-");
  const run = rayCluster(["token", job], { PYTHONPATH: fakeRayDistribution("2.55.0") });
  assert.equal(run.status, 0, run.stderr);
  const token = join(job, "ray", "token");
  assert.match(readFileSync(token, "utf8"), /^[0-9a-f]{64}$/);
  assert.equal(statSync(token).mode & 0o777, 0o600);
  const again = rayCluster(["token", job], { PYTHONPATH: fakeRayDistribution("2.60.0") });
  assert.equal(again.status, 0, again.stderr);
  assert.notEqual(readFileSync(token, "utf8"), "", "rewritten");
});

test("with older Ray, `token` exits 3 and warns that the ports are open", () => {
  const job = scratchDir("srjob-");
  const run = rayCluster(["token", job], { PYTHONPATH: fakeRayDistribution("2.40.0") });
  assert.equal(run.status, 3);
  assert.match(run.stderr, /warning: Ray 2\.40\.0 has no token authentication \(2\.52\+\): this job's Ray ports accept anyone/);
});

test("a head that never comes up fails `head` and leaves the reason in error.json", () => {
  const job = scratchDir("srjob-");
  const run = rayCluster(["head", job], { SLURMRAY_RAY_START_TIMEOUT: "0.3" });
  assert.equal(run.status, 1);
  const error = JSON.parse(readFileSync(join(job, "error.json"), "utf8")) as { type: string; message: string };
  assert.equal(error.type, "RayStartError");
  assert.match(error.message, /the Ray head did not start within 0.3 s/);
});
