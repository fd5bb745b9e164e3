// The entry is checked before anything is sent: a misspelled function is exit 2 at once, no job is recorded,
// and a name only a star import could bind is a warning, not a refusal.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCli, tempProject } from "../../helpers/cli.js";

const PROJECT = {
  "main.py": `
from helpers import *
try:
    from numpy_like_outside import *
except ImportError:
    pass
import json as jsonlib

def train(x=1):
    return x * 2

if True:
    CONSTANT = 3

try:
    from fast import speedy
except ImportError:
    def speedy():
        return "slow"

shout = lambda text: text.upper()
`,
  "helpers.py": "def helped():\n    return 'helped'\n",
  "strict.py": "from helpers import *\n\ndef own():\n    return 'own'\n",
  "pkg/__init__.py": "def in_package():\n    return 'package'\n",
  "broken.py": "def f(:\n",
  "fit.py": `import functools

def fit(lr, epochs=3, *, seed):
    return [lr, epochs, seed]

def loose(lr, **options):
    return sorted(options)

def only(x, /):
    return x

@functools.lru_cache
def cached(lr):
    return lr

def rebound(a):
    return a

rebound = functools.partial(rebound, a=1)
`,
};

function recordedJobs(root: string): string[] {
  const dir = join(root, ".slurmray", "jobs");
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(".json")) : [];
}

describe("entry check before submission (local target)", () => {
  it("refuses a misspelled function with exit 2, naming what the file defines, and records no job", async () => {
    const root = tempProject(PROJECT);
    const run = await runCli(["run", "strict.py:onw"], { cwd: root });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /strict\.py defines no top-level "onw" \(it defines: helped, own\); check the spelling/);
    assert.deepEqual(recordedJobs(root), []);
  });

  it("follows a star import of a project module: a name it binds runs", async () => {
    const root = tempProject(PROJECT);
    const run = await runCli(["run", "strict.py:helped"], { cwd: root });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), '"helped"');
    assert.doesNotMatch(run.stderr, /star import/);
  });

  it("accepts any top-level binding: def, lambda, assignment in if, def in except, import alias", async () => {
    const root = tempProject(PROJECT);
    for (const [entry, expected] of [
      ["main.py:train", "2"],
      ["main.py:shout", null],
      ["main.py:speedy", '"slow"'],
      ["pkg:in_package", '"package"'],
    ] as const) {
      const args = entry === "main.py:shout" ? ["--args", '{"text": "hi"}'] : [];
      const run = await runCli(["run", entry, ...args], { cwd: root });
      assert.equal(run.code, 0, `${entry}: ${run.stderr}`);
      assert.equal(run.stdout.trim(), expected ?? '"HI"');
    }
  });

  it("a name only a star import of an outside module could bind is a warning, and the job runs", async () => {
    const root = tempProject(PROJECT);
    const run = await runCli(["run", "main.py:not_anywhere"], { cwd: root });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /main\.py does not define not_anywhere by name; it may come from a star import \(not checked\)/);
    assert.equal(run.stderr.match(/star import/g)?.length, 1, "the warning is printed once");
  });

  it("keyword arguments the function would refuse are exit 2 before anything is sent, for run and each of map's elements", async () => {
    const root = tempProject(PROJECT);
    writeFileSync(join(root, "list.jsonl"), '{"lr": 1, "seed": 1}\n{"lr": 1, "seeed": 2}\n');
    const refused: [string[], RegExp][] = [
      [["run", "fit.py:fit", "--args", '{"lr": 0.1, "epochs": 2, "sed": 1}'], /entry fit\.py:fit: fit\(\) has no parameter "sed" \(given in the arguments\); it takes lr, epochs, seed: check the spelling/],
      [["run", "fit.py:fit", "--args", '{"epochs": 2}'], /fit\(\) needs "lr", "seed", not given in the arguments/],
      [["run", "fit.py:only", "--args", '{"x": 1}'], /only\(\) takes "x" by position only, which keyword arguments cannot give/],
      [["map", "fit.py:fit", "--args-file", "list.jsonl"], /fit\(\) has no parameter "seeed" \(given in element 1\)/],
    ];
    for (const [args, message] of refused) {
      const run = await runCli(args, { cwd: root });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    assert.deepEqual(recordedJobs(root), []);
    // What the function takes runs: defaults left out, anything through **options; a decorated or rebound one is not checked.
    for (const [entry, args, expected] of [
      ["fit.py:fit", '{"lr": 0.5, "seed": 7}', "[\n  0.5,\n  3,\n  7\n]"],
      ["fit.py:loose", '{"lr": 1, "beta": 2}', '[\n  "beta"\n]'],
      ["fit.py:cached", '{"lr": 2}', "2"],
      ["fit.py:rebound", "{}", "1"],
    ]) {
      const run = await runCli(["run", entry!, "--args", args!], { cwd: root });
      assert.equal(run.code, 0, `${entry}: ${run.stderr}`);
      assert.equal(run.stdout.trim(), expected);
    }
  });

  it("an entry file with a syntax error is exit 2 with the line", async () => {
    const root = tempProject(PROJECT);
    const run = await runCli(["run", "broken.py:f"], { cwd: root });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /broken\.py does not parse \(line 1: .*\); fix the syntax error first/);
    assert.deepEqual(recordedJobs(root), []);
  });

  it("with a project venv the answer is cached: the same refusal again, and an edit is seen at once", async () => {
    const root = tempProject(PROJECT);
    execFileSync("python3", ["-m", "venv", "--without-pip", join(root, ".venv")]);
    for (let i = 0; i < 2; i++) {
      const run = await runCli(["run", "strict.py:onw"], { cwd: root });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /strict\.py defines no top-level "onw" \(it defines: helped, own\); check the spelling/);
    }
    assert.ok(existsSync(join(root, ".slurmray", "cache", "import-checks.json")));
    assert.deepEqual(recordedJobs(root), []);
    writeFileSync(join(root, "helpers.py"), "def onw():\n    return 'fixed'\n");
    const run = await runCli(["run", "strict.py:onw"], { cwd: root });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), '"fixed"');
  });
});
