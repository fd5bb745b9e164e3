import assert from "node:assert/strict";
import { test } from "node:test";
import { type ProbedDistribution, topLevelNames } from "../../../src/envsync/distributions.js";

const LINUX = { sys_platform: "linux", python_version: "3.11", os_name: "posix" };
const dist = (name: string, requires: string[] = []): ProbedDistribution => ({ name, version: "1.0", requires, direct_url: null });

test("top-level: distributions nothing else requires, names normalised", () => {
  const dists = [dist("Flask", ["Werkzeug>=2", "click"]), dist("werkzeug"), dist("click"), dist("Requests_OAuth")];
  assert.deepEqual(topLevelNames(dists, LINUX), ["flask", "requests-oauth"]);
});

test("a dependency behind an extra or a false marker does not count: the package stays top-level", () => {
  const dists = [dist("beta", ['gamma; extra == "fast"', 'winonly; sys_platform == "win32"']), dist("gamma"), dist("winonly")];
  assert.deepEqual(topLevelNames(dists, LINUX), ["beta", "gamma", "winonly"]);
});

test("a marker true here makes it a dependency", () => {
  const dists = [dist("delta", ['epsilon; sys_platform == "linux"']), dist("epsilon")];
  assert.deepEqual(topLevelNames(dists, LINUX), ["delta"]);
});

test("a cycle that nothing else reaches still yields one root, so nothing is lost", () => {
  const dists = [dist("a", ["b"]), dist("b", ["a"]), dist("c", ["c"])];
  assert.deepEqual(topLevelNames(dists, LINUX), ["a", "c"]);
});

test("malformed Requires-Dist lines are ignored", () => {
  assert.deepEqual(topLevelNames([dist("x", ["not a valid ((("]), dist("y")], LINUX), ["x", "y"]);
});
