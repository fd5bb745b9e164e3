// Keyword arguments kept as JSON text: the user's text as given, values checked, job.json spliced, records read.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { findJob, jobsDir, readJobs, saveJob } from "../../../src/jobs/registry.js";
import { type ArgsJson, argsFromValues, argsText, asArgsJson, hasArgs, withArgsText } from "../../../src/model/job-args.js";
import { runnerSpecJson } from "../../../src/model/runner-spec.js";
import { InputError } from "../../../src/util/errors.js";
import { scratchDir } from "../../helpers/scratch.js";
import { slurmJob } from "../slurm/job.js";

/** What Python's json.loads makes of `text`: each value's type and repr. */
function pythonSees(text: string): Record<string, [string, string]> {
  const script = "import json,sys\nargs=json.loads(sys.stdin.read())['args']\nprint(json.dumps({k: [type(v).__name__, repr(v)] for k, v in args.items()}))";
  return JSON.parse(execFileSync("python3", ["-c", script], { input: text, encoding: "utf8" }));
}

describe("job arguments as JSON text", () => {
  it("the user's text is kept as given, so Python reads 1.0 as a float and 2**64 + 1 exactly", () => {
    const text = ' {"f": 1.0, "big": 18446744073709551617, "inf": 1e400, "s": "\\u00e9"} ';
    const args = argsText(text, "--args");
    assert.equal(args, text.trim());
    const spec = runnerSpecJson(slurmJob({}, { args }));
    assert.deepEqual(pythonSees(spec), { f: ["float", "1.0"], big: ["int", "18446744073709551617"], inf: ["float", "inf"], s: ["str", "'é'"] });
    // The rest of job.json is there too, and "args" is not repeated.
    const parsed = JSON.parse(spec) as Record<string, unknown>;
    assert.equal(parsed["entry"], "train.py:main");
    assert.equal(spec.match(/"args"/g)?.length, 1);
  });

  it("refuses text that is not one JSON object, naming where it came from", () => {
    assert.throws(() => argsText("{oops", "--args"), (e: unknown) => e instanceof InputError && /^--args: not valid JSON/.test(e.message));
    assert.throws(() => argsText("[1]", "--args-file a.json"), /--args-file a\.json: expected a JSON object of keyword arguments such as '\{"n": 20\}', got a list/);
    assert.throws(() => argsText("3", "x", "{}"), /x: expected a JSON object .* got 3/);
    assert.throws(() => argsText("null", "x"), /got null/);
    assert.equal(asArgsJson('"{}"'), null);
    assert.equal(asArgsJson("{} {}"), null);
    assert.equal(asArgsJson(' {"a": 1}\n'), '{"a": 1}');
  });

  it("values from the API: exact bigints, and nothing JSON would change without a word", () => {
    const shared = { s: 1 }; // the same object twice, side by side, is no cycle
    assert.equal(argsFromValues({ a: shared, b: [shared] }), '{"a":{"s":1},"b":[{"s":1}]}');
    const args = argsFromValues({ big: -(2n ** 70n), f: 0.1, t: [true, null, "x"], o: Object.assign(Object.create(null), { k: 1 }) });
    assert.deepEqual(pythonSees(`{"args":${args}}`), {
      big: ["int", "-1180591620717411303424"],
      f: ["float", "0.1"],
      t: ["list", "[True, None, 'x']"],
      o: ["dict", "{'k': 1}"],
    });
    const refused: [unknown, RegExp][] = [
      [{ a: Number.NEGATIVE_INFINITY }, /^args\.a: -Infinity has no JSON form/],
      [{ a: [0, Number.NaN] }, /^args\.a\[1\]: NaN/],
      [{ a: Symbol("s") }, /^args\.a: symbol cannot be passed/],
      [{ a: new Map() }, /^args\.a: a Map cannot be passed/],
      [[1], /^args: expected an object/],
      [null, /^args: expected an object/],
      [(() => {
        const loop: Record<string, unknown> = { k: 1 };
        loop["self"] = { back: loop };
        return { a: loop };
      })(), /^args\.a\.self\.back: refers to an object that holds it \(a cycle\)/],
    ];
    for (const [values, message] of refused) {
      assert.throws(() => argsFromValues(values as Record<string, unknown>), (e: unknown) => e instanceof InputError && message.test(e.message), String(message));
    }
  });

  it("hasArgs tells an empty object from one with arguments; withArgsText puts the text first", () => {
    assert.equal(hasArgs("{ }" as ArgsJson), false);
    assert.equal(hasArgs('{"a": null}' as ArgsJson), true);
    assert.equal(withArgsText('{"a": 1}' as ArgsJson, {}), '{"args":{"a": 1}}');
    assert.deepEqual(JSON.parse(withArgsText('{"a": 1}' as ArgsJson, { id: "x" })), { args: { a: 1 }, id: "x" });
  });

  it("a record keeps the text through save and read; one written before holds an object, read as its text; a forged one is refused", () => {
    const root = scratchDir("srargs-");
    try {
      const job = slurmJob({}, { args: '{"lr": 1.0, "n": 18446744073709551617}' as ArgsJson });
      saveJob(root, job);
      assert.equal(findJob(root, job.id).spec.args, '{"lr": 1.0, "n": 18446744073709551617}');
      const file = join(jobsDir(root), `${job.id}.json`);
      writeFileSync(file, JSON.stringify({ ...job, spec: { ...job.spec, args: { lr: 0.5 } } }));
      assert.equal(findJob(root, job.id).spec.args, '{"lr":0.5}');
      for (const forged of ["[1]", "{oops", 7]) {
        writeFileSync(file, JSON.stringify({ ...job, spec: { ...job.spec, args: forged } }));
        assert.match(readJobs(root).invalid[0]!.error.message, /spec\.args: expected the JSON text of an object/, String(forged));
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
