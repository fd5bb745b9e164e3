// runner.py: entry forms, results (JSON and pickle), errors and job.json validation.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { scratchDir } from "../../helpers/scratch.js";
import { job, projectDir, removeJobDirs, runRunner } from "./harness.js";

after(removeJobDirs);

/** Loads result.pkl with python3 (the project on sys.path, for its classes) and returns its repr. */
function unpickle(dir: string): string {
  const code = "import pickle, sys; sys.path.insert(0, sys.argv[1]); print(repr(pickle.load(open(sys.argv[2], 'rb'))))";
  const out = spawnSync("python3", ["-c", code, projectDir, join(dir, "result.pkl")], { encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.trim();
}

describe("runner entries", () => {
  test("file.py:fn gets args as keyword arguments and writes result.json", async () => {
    const run = await runRunner(job("funcs.py:add", { args: { b: 2, a: 40 } }));
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(run.json("result.json"), { value: { sum: 42 } });
    assert.equal(run.has("error.json"), false);
    assert.equal(run.has("result.pkl"), false);
  });

  test("pkg.mod:fn is imported as a module", async () => {
    const run = await runRunner(job("pkg.mod:triple", { args: { x: 14 } }));
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(run.json("result.json"), { value: 42 });
  });

  test("an entry file imports a sibling module from its own directory", async () => {
    const run = await runRunner(job("sub/entry.py:greet", { args: { name: "Ada" } }));
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(run.json("result.json"), { value: "hello, Ada" });
  });

  test("the job runs in a working dir of its own: links to code_dir's entries and its own outputs/", async () => {
    const run = await runRunner(job("funcs.py:where"));
    const work = join(run.dir, "work");
    assert.deepEqual(run.json("result.json"), { value: { cwd: work, argv: ["funcs.py:where"] } });
    assert.equal(readlinkSync(join(work, "funcs.py")), join(projectDir, "funcs.py"));
    assert.equal(readlinkSync(join(work, "outputs")), join("..", "outputs"));
    assert.ok(statSync(join(run.dir, "outputs")).isDirectory());
    assert.equal(realpathSync(join(work, "outputs")), realpathSync(join(run.dir, "outputs")));
  });

  test("job.json's outputs names the outputs folder in the working dir; it is stored as outputs/ all the same", async () => {
    const run = await runRunner(job("funcs.py:where", { outputs: "results" }));
    assert.equal(readlinkSync(join(run.dir, "work", "results")), join("..", "outputs"));
    const bad = await runRunner(job("funcs.py:where", { outputs: "../x" }));
    assert.equal(bad.code, 2);
  });

  test("a write refused on a shipped file says why, and one refused to root elsewhere; other permission errors are left as they are", async () => {
    const code = scratchDir("sr-tree-");
    writeFileSync(join(code, "w.py"), "import os\nraise PermissionError(int(os.environ.get('ERRNO', 13)), 'Permission denied', os.environ['TARGET'])\n");
    try {
      const shipped = await runRunner(job("w.py", { code_dir: code, env: { TARGET: "w.py" } }));
      assert.match(String(shipped.json("error.json").message), /Permission denied: 'w\.py': shipped files are read-only .*under the outputs folder/);
      const other = await runRunner(job("w.py", { code_dir: code, env: { TARGET: "/etc/shadow", ERRNO: "1" } }));
      assert.equal(other.json("error.json").message, "[Errno 1] Permission denied: '/etc/shadow'");
      // Refused outside the tree: as root, the runner says why root was refused (slurmray_root_writes.py).
      const outside = String((await runRunner(job("w.py", { code_dir: code, env: { TARGET: "/etc/shadow" } }))).json("error.json").message);
      if (process.getuid?.() === 0) assert.match(outside, /^\[Errno 13\] Permission denied: '\/etc\/shadow': a job running as root writes only where file modes allow it/);
      else assert.equal(outside, "[Errno 13] Permission denied: '/etc/shadow'");
    } finally {
      rmSync(code, { recursive: true, force: true });
    }
  });

  for (const [fn, type, repr] of [
    ["tags", "set", "{'a'}"],
    ["point", "funcs.Point", "Point(1, 2)"],
    ["nan", "float", "nan"],
  ] as const) {
    test(`a ${type} result goes to result.pkl with its repr`, async () => {
      const run = await runRunner(job(`funcs.py:${fn}`));
      assert.equal(run.code, 0, run.log());
      const result = run.json("result.json");
      assert.equal(result.pickle, "result.pkl");
      assert.equal(result.type, type);
      assert.equal(result.repr, repr);
      assert.equal(unpickle(run.dir), repr);
    });
  }

  test("result_repr_limit cuts the repr", async () => {
    const run = await runRunner(job("funcs.py:point", { result_repr_limit: 5 }));
    assert.equal(run.json("result.json").repr, "Point");
  });

  test("a value neither JSON nor pickle can hold is a ResultError, exit 1", async () => {
    const run = await runRunner(job("funcs.py:generator"));
    assert.equal(run.code, 1);
    assert.deepEqual(run.json("error.json"), {
      type: "ResultError",
      message: "the function returned a generator, which neither JSON nor pickle can hold: cannot pickle 'generator' object",
      traceback: "ResultError: the function returned a generator, which neither JSON nor pickle can hold: cannot pickle 'generator' object\n",
    });
    assert.equal(run.has("result.json"), false);
  });

  test("an exception writes error.json with type, message and the user's traceback, exit 1", async () => {
    const run = await runRunner(job("funcs.py:fail", { args: { reason: "disk full" } }));
    assert.equal(run.code, 1);
    const error = run.json("error.json");
    assert.equal(error.type, "funcs.Failure");
    assert.equal(error.message, "failed because disk full");
    const traceback = String(error.traceback);
    assert.match(traceback, /^Traceback \(most recent call last\):\n {2}File ".*\/funcs\.py", line \d+, in fail\n/);
    assert.match(traceback, /funcs\.Failure: failed because disk full\n$/);
    assert.doesNotMatch(traceback, /runner\.py/);
    assert.ok(run.log().includes(traceback), "the traceback is also in job.log");
    assert.equal(run.has("result.json"), false);
  });

  const badEntries: [string, string, RegExp][] = [
    ["nope.py:fn", "EntryError", /^entry file nope\.py not found \(looked for .*\/nope\.py\)$/],
    ["funcs.py:nope", "EntryError", /^funcs\.py has no attribute 'nope' \(callables found: .*\badd\b.*\)$/],
    ["funcs.py:not_callable", "EntryError", /^funcs\.py:not_callable is a int, not a function$/],
    ["broken.py:fn", "SyntaxError", /^invalid syntax \(broken\.py, line 1\)$/],
    ["pkg.nothere:fn", "EntryError", /^module pkg\.nothere not found in .* or the environment$/],
    ["pkg.needs_missing:fn", "ModuleNotFoundError", /^No module named 'slurmray_no_such_dependency'$/],
    ["funcs", "EntryError", /^entry 'funcs' must be path\/to\/file\.py:function, package\.module:function or path\/to\/script\.py$/],
    ["missing_script.py", "EntryError", /^script missing_script\.py not found/],
  ];
  for (const [entry, type, message] of badEntries) {
    test(`bad entry ${entry}: ${type} in error.json, exit 1`, async () => {
      const run = await runRunner(job(entry));
      assert.equal(run.code, 1, run.log());
      const error = run.json("error.json");
      assert.equal(error.type, type);
      assert.match(String(error.message), message);
      assert.doesNotMatch(String(error.traceback), /runner\.py/);
      assert.equal(run.json("status.json").state, "FAILED");
    });
  }

  test("a syntax error's traceback shows the offending line", async () => {
    const run = await runRunner(job("broken.py:fn"));
    assert.match(String(run.json("error.json").traceback), /def fn\(:/);
  });

  const badJobs: [string, Record<string, unknown> | string, RegExp][] = [
    ["not JSON", "{entry:", /^cannot read .*job\.json: /],
    ["not an object", "[1]", /must hold a JSON object$/],
    ["no entry", job(""), /'entry' must be a non-empty string/],
    ["args not an object", job("funcs.py:add", { args: [1, 2] }), /'args' must be an object, got \[1, 2\]$/],
    ["script_args not strings", job("script.py", { script_args: [1] }), /'script_args' must be a list of strings/],
    ["env values not strings", job("funcs.py:add", { env: { A: 1 } }), /'env' must be an object of strings/],
    ["relative code_dir", job("funcs.py:add", { code_dir: "project" }), /'code_dir' must be an absolute path/],
    ["missing code_dir", job("funcs.py:add", { code_dir: "/nonexistent/sr" }), /code_dir \/nonexistent\/sr is not a directory/],
    ["ray without address", job("funcs.py:add", { ray: {} }), /'ray' must be null or \{"address": "host:port"\}/],
    ["args for a script", job("script.py", { args: { a: 1 } }), /'args' are for functions/],
    ["script_args for a function", job("funcs.py:add", { script_args: ["x"] }), /'script_args' are for scripts/],
  ];
  for (const [what, spec, message] of badJobs) {
    test(`invalid job.json (${what}): InvalidJob, exit 2`, async () => {
      const run = await runRunner(spec);
      assert.equal(run.code, 2, run.log());
      const error = run.json("error.json");
      assert.equal(error.type, "InvalidJob");
      assert.match(String(error.message), message);
      assert.deepEqual(
        { state: run.json("status.json").state, exit_code: run.json("status.json").exit_code },
        { state: "FAILED", exit_code: 2 },
      );
    });
  }
});
