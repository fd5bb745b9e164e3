// The generation scripts run by a local sh on a fake envs folder: which dirs retirement removes and which it
// never touches (the current one, those in use, other projects' envs that share a prefix).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseRetired, RESOLVE_ENV, retireEnvsScript, SHARED_SETTLE_MINUTES } from "../../../src/envsync/generations.js";
import { scratchDir } from "../../helpers/scratch.js";

const home = scratchDir("sr-generations-");
after(() => rmSync(home, { recursive: true, force: true }));

function sh(script: string): string {
  return execFileSync("sh", ["-s"], { input: script, encoding: "utf8" });
}

test("the current generation: the base without a pointer, <base>-<n> with one; a garbled pointer is ignored", () => {
  const base = join(home, "resolve", "p-py3.11");
  mkdirSync(join(home, "resolve"));
  const resolve = (): string => sh(`sr_base='${base}'\n${RESOLVE_ENV}\necho "$sr_env"`).trim();
  assert.equal(resolve(), base);
  writeFileSync(`${base}.current`, "3\n");
  assert.equal(resolve(), `${base}-3`);
  writeFileSync(`${base}.current`, "3; rm -rf /\n");
  assert.equal(resolve(), base);
});

test("retirement removes the unused generations and leftovers, and nothing else", () => {
  const envs = join(home, "retire");
  const dirs = ["p-py3.11", "p-py3.11-1", "p-py3.11-2", "p-py3.11-3.tmp", "p-py3.11-4.trash", "p-py3.11-x", "p-py3.11-1x-py3.11", "p-py3.12", "q-py3.11", "p-extra-py3.11"];
  for (const dir of dirs) mkdirSync(join(envs, dir), { recursive: true });
  for (const lock of ["p-py3.11", "p-py3.12", "p-py3.11-1x-py3.11", "q-py3.11", "p-extra-py3.11"]) writeFileSync(join(envs, `${lock}.lock`), "");
  writeFileSync(join(envs, "p-py3.11.current"), "2\n");

  const removed = parseRetired(sh(retireEnvsScript(envs, "p", [join(envs, "p-py3.11-1")], false)));
  assert.deepEqual(removed.sort(), [join(envs, "p-py3.11"), join(envs, "p-py3.11-3.tmp"), join(envs, "p-py3.11-4.trash")]);
  const left = readdirSync(envs).filter((name) => !name.endsWith(".lock") && !name.endsWith(".current"));
  assert.deepEqual(left.sort(), ["p-extra-py3.11", "p-py3.11-1", "p-py3.11-1x-py3.11", "p-py3.11-2", "p-py3.11-x", "p-py3.12", "q-py3.11"]);

  assert.deepEqual(parseRetired(sh(retireEnvsScript(envs, "p", [], false))), [join(envs, "p-py3.11-1")]);
  assert.deepEqual(parseRetired(sh(retireEnvsScript(envs, "p", [], false))), []);
});

test("a project name with spaces and quotes is one word to the shell", () => {
  const envs = join(home, "quoted");
  const name = `it's a "p"`;
  mkdirSync(join(envs, `${name}-py3.11`), { recursive: true });
  mkdirSync(join(envs, `${name}-py3.11-1`));
  writeFileSync(join(envs, `${name}-py3.11.lock`), "");
  writeFileSync(join(envs, `${name}-py3.11.current`), "1\n");
  assert.deepEqual(parseRetired(sh(retireEnvsScript(envs, name, [], false))), [join(envs, `${name}-py3.11`)]);
});

test("in a project shared by name, nothing is removed until the current env has been current for the settling time", () => {
  const envs = join(home, "shared");
  for (const dir of ["p-py3.11", "p-py3.11-1", "p-py3.11-2"]) mkdirSync(join(envs, dir), { recursive: true });
  writeFileSync(join(envs, "p-py3.11.lock"), "");
  const pointer = join(envs, "p-py3.11.current");
  writeFileSync(pointer, "2\n");
  const keep = [join(envs, "p-py3.11-1")];
  assert.deepEqual(parseRetired(sh(retireEnvsScript(envs, "p", keep, true))), [], "just switched: another clone's run may have probed p-py3.11");
  const settled = (Date.now() - (SHARED_SETTLE_MINUTES + 1) * 60_000) / 1000;
  utimesSync(pointer, settled, settled);
  assert.deepEqual(parseRetired(sh(retireEnvsScript(envs, "p", keep, true))), [join(envs, "p-py3.11")], "settled: what no job uses goes");
  assert.deepEqual(readdirSync(envs).sort(), ["p-py3.11-1", "p-py3.11-2", "p-py3.11.current", "p-py3.11.lock"]);
});
