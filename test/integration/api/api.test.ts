// The public library on the local target: Cluster.run / submit / map and Job, as a TypeScript user calls them.
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Cluster, InputError, InterruptedError, JobFailedError, JobFilesGoneError } from "../../../src/api/index.js";
import { runCli, tempProject } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";

const cwd = tempProject({
  "calc.py": `import time

def square(x):
    print('squaring', x, flush=True)
    return x * x

def boom():
    raise ValueError('bad value')

def odd_fails(x):
    if x % 2:
        raise RuntimeError(f'odd {x}')
    return x

def report(name):
    import os
    os.makedirs("outputs/tables", exist_ok=True)
    with open(os.path.join("outputs", "tables", name), "w") as f:
        f.write("a,b\\n1,2\\n")
    return name

def nothing():
    return None

def env_of(name):
    import os
    return os.environ.get(name)

def same(v):
    return v

def kinds(**kw):
    return {k: [type(v).__name__, repr(v)] for k, v in kw.items()}

def ticks(n, every=0.3):
    for i in range(n):
        print('tick', i, flush=True)
        time.sleep(every)
    return n
`,
});

describe("Cluster and Job on the local target", () => {
  it("run returns the function's result", async () => {
    assert.equal(await new Cluster({ cwd }).run("calc.py:square", { args: { x: 7 } }), 49);
  });

  it("map is one array with per-element outcomes in order; failures are outcomes, not a rejection", async () => {
    const cluster = new Cluster({ cwd });
    const report = await cluster.map("calc.py:odd_fails", [{ x: 0 }, { x: 1 }, { x: 2 }, { x: 3 }], { maxParallel: 2 });
    assert.equal(report.state, "FAILED");
    assert.deepEqual(
      report.elements.map((e) => [e.index, e.id, e.state, e.result]),
      [0, 1, 2, 3].map((i) => [i, `${report.job_id}_${i}`, i % 2 ? "FAILED" : "COMPLETED", i % 2 ? null : i]),
    );
    assert.match(report.elements[3]!.error!.traceback, /RuntimeError: odd 3/);
    // Each element is a job of its own to the rest of the API.
    assert.equal(await cluster.job(`${report.job_id}_2`).status(), "COMPLETED");
    await assert.rejects(cluster.job(`${report.job_id}_1`).result(), /odd 1/);
  });

  it("a failing job rejects with its Python traceback and the CLI's exit code", async () => {
    await assert.rejects(new Cluster({ cwd }).run("calc.py:boom"), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.exitCode, 1);
      assert.match(error.message, /ValueError: bad value/);
      assert.match(error.message, /calc\.py", line 8, in boom/);
      return true;
    });
  });

  it("arguments reach Python as given: a bigint keeps every digit; what JSON would change without a word is refused", async () => {
    const cluster = new Cluster({ cwd });
    const sent = { big: 2n ** 64n + 1n, half: 0.5, list: [1, "a", null], nested: { ok: true } };
    assert.deepEqual(await cluster.run("calc.py:kinds", { args: sent }), {
      big: ["int", "18446744073709551617"],
      half: ["float", "0.5"],
      list: ["list", "[1, 'a', None]"],
      nested: ["dict", "{'ok': True}"],
    });
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ x: Number.NaN }, /args\.x: NaN has no JSON form/],
      [{ x: { y: Number.POSITIVE_INFINITY } }, /args\.x\.y: Infinity has no JSON form/],
      [{ x: undefined }, /args\.x: undefined cannot be passed to Python/],
      [{ when: new Date(0) }, /args\.when: a Date cannot be passed to Python/],
      [{ xs: new Array(3).fill(1, 0, 1) }, /args\.xs\[1\]: undefined cannot be passed/], // a hole
    ];
    for (const [args, message] of refused) {
      await assert.rejects(cluster.run("calc.py:kinds", { args }), (error: unknown) => error instanceof InputError && error.exitCode === 2 && message.test(error.message));
    }
    await assert.rejects(cluster.map("calc.py:kinds", [{ a: 1 }, { b: () => 1 }]), /argsList\[1\]\.b: function cannot be passed to Python/);
  });

  it("env is checked before anything runs: names a shell takes, string values; no job is made", async () => {
    const cluster = new Cluster({ cwd });
    const before = cluster.jobs().length;
    const refused: [unknown, RegExp][] = [
      [{ OMP_NUM_THREADS: 4 }, /environment variable OMP_NUM_THREADS: expected a string, got number \(write "4"\)/],
      [{ "1BAD": "x" }, /environment variable "1BAD": names are letters, digits and '_'/],
      [{ "A;rm": "x" }, /environment variable "A;rm"/],
      [{ A: "a\0b" }, /environment variable A: a value cannot hold a NUL/],
      [["A=1"], /env: expected an object/],
    ];
    for (const [env, message] of refused) {
      await assert.rejects(cluster.run("calc.py:square", { args: { x: 1 }, env: env as Record<string, string> }), (error: unknown) => error instanceof InputError && message.test(error.message));
    }
    assert.equal(cluster.jobs().length, before);
    assert.equal(await cluster.run("calc.py:env_of", { args: { name: "SR_T" }, env: { SR_T: "a b $HOME" } }), "a b $HOME");
  });

  it("an integer result past 2**53 comes back as a bigint with every digit, from run, map and Job.result", async () => {
    const cluster = new Cluster({ cwd });
    const big = 2n ** 64n + 1n;
    assert.deepEqual(await cluster.run("calc.py:same", { args: { v: { n: big, small: 3 } } }), { n: big, small: 3 });
    const report = await cluster.map("calc.py:same", [{ v: big }, { v: -big }]);
    assert.deepEqual(report.elements.map((e) => e.result), [big, -big]);
    assert.deepEqual(((await cluster.job(report.job_id).result()) as { result: unknown }[]).map((e) => e.result), [big, -big]);
    assert.equal(await cluster.job(`${report.job_id}_1`).result(), -big);
  });

  it("options are checked as the CLI's flags are: unknown ones, resources, scriptArgs and ray; no job is made", async () => {
    const cluster = new Cluster({ cwd });
    const before = cluster.jobs().length;
    const refused: [() => Promise<unknown>, RegExp][] = [
      [() => cluster.run("calc.py:square", { arg: { x: 1 } } as never), /run: unknown option "arg"; the options are args, scriptArgs, resources, ray, env, signal, onLog/],
      [() => cluster.submit("calc.py:square", { args: { x: 1 }, onLog: () => {} } as never), /submit: unknown option "onLog"/],
      [() => cluster.map("calc.py:square", [{ x: 1 }], { max_parallel: 2 } as never), /map: unknown option "max_parallel"; the options are resources, ray, env, signal, maxParallel/],
      [() => cluster.run("calc.py:square", { args: { x: 1 }, resources: { mem: -1 } }), /resources\.mem: must be at least 0 \(exclusive\), got -1; the resources are nodes \(1-1024\), cpus/],
      [() => cluster.run("calc.py:square", { args: { x: 1 }, resources: { cpus: "4" } as never }), /resources\.cpus: expected a number, got "4"/],
      [() => cluster.run("calc.py:square", { args: { x: 1 }, resources: { bogus: 1 } as never }), /resources: unknown key "bogus"; the resources are nodes/],
      [() => cluster.run("calc.py:square", { args: { x: 1 }, resources: { partition: "a;b" } }), /resources\.partition: must be a partition name/],
      [() => cluster.run("calc.py:square", { scriptArgs: [1] as never }), /scriptArgs: expected an array of strings/],
      [() => cluster.run("calc.py:square", { args: { x: 1 }, ray: "yes" as never }), /ray: expected true or false, got "yes"/],
    ];
    for (const [call, message] of refused) {
      await assert.rejects(call(), (error: unknown) => error instanceof InputError && error.exitCode === 2 && message.test(error.message), String(message));
    }
    assert.equal(cluster.jobs().length, before);
    // A misspelt target would run on this machine instead.
    assert.throws(() => new Cluster({ cwd, targt: "cluster" } as never), /new Cluster: unknown option "targt"; the options are cwd, target, acceptNewHostKey/);
  });

  it("bad input is an InputError with exit code 2, before anything runs", async () => {
    await assert.rejects(new Cluster({ cwd }).map("calc.py:square", []), (error: unknown) => error instanceof InputError && error.exitCode === 2);
    await assert.rejects(new Cluster({ cwd, target: "nowhere" }).run("calc.py:square"), (error: unknown) => error instanceof InputError);
  });

  it("logs({ follow }) streams the output as it comes, until the job ends", async () => {
    const job = await new Cluster({ cwd }).submit("calc.py:ticks", { args: { n: 4 } });
    const chunks: string[] = [];
    for await (const text of job.logs({ follow: true })) chunks.push(text);
    assert.equal(chunks.join(""), "tick 0\ntick 1\ntick 2\ntick 3\n");
    assert.ok(chunks.length > 1, "the output came in several pieces, as it was printed");
    assert.equal(await job.status(), "COMPLETED");
    assert.equal(await job.result(), 4);
  });

  it("an aborted run cancels its job and rejects with InterruptedError (exit code 130)", async () => {
    const cluster = new Cluster({ cwd });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    await assert.rejects(cluster.run("calc.py:ticks", { args: { n: 100 }, signal: controller.signal }), (error: unknown) => {
      assert.ok(error instanceof InterruptedError);
      assert.equal(error.exitCode, 130);
      return true;
    });
    const [last] = cluster.jobs().slice(-1);
    assert.equal(await last!.status(), "CANCELLED");
  });

  it("outputs() waits for the job and brings back what it wrote under outputs/", async () => {
    const job = await new Cluster({ cwd }).submit("calc.py:report", { args: { name: "t.csv" } });
    const dir = scratchDir("srout-");
    const fetched = await job.outputs({ dir });
    assert.equal(fetched.dir, dir);
    assert.equal(readFileSync(join(dir, "tables", "t.csv"), "utf8"), "a,b\n1,2\n");
    assert.equal(await job.status(), "COMPLETED");
  });

  it("a completed job whose folder or result file is gone rejects, never resolves null; a function's None is null", async () => {
    const cluster = new Cluster({ cwd });
    assert.equal(await cluster.run("calc.py:nothing"), null);
    const job = await cluster.submit("calc.py:square", { args: { x: 3 } });
    assert.equal(await job.result(), 9);
    rmSync(join(cwd, ".slurmray", "jobs", job.id), { recursive: true }); // the local target's job folder
    await assert.rejects(job.result(), (error: unknown) => error instanceof JobFilesGoneError && error.exitCode === 1 && /its result is not in .* the job's folder was removed/.test(error.message));
    await assert.rejects(async () => {
      for await (const text of job.logs()) assert.fail(`read a log from a folder that is gone: ${text}`);
    }, /its log is not in/);

    const array = await cluster.map("calc.py:square", [{ x: 1 }, { x: 2 }]);
    assert.deepEqual(array.elements.map((e) => e.result), [1, 4]);
    rmSync(join(cwd, ".slurmray", "jobs", array.job_id, "1", "result.json"));
    await assert.rejects(cluster.job(array.job_id).result(), new RegExp(`job ${array.job_id}_1: it completed, but its result is not in`));
    await assert.rejects(cluster.job(`${array.job_id}_1`).result(), /its result is not in/);
    assert.equal(await cluster.job(`${array.job_id}_0`).result(), 1);
  });

  it("cancel() stops a submitted job", async () => {
    const job = await new Cluster({ cwd }).submit("calc.py:ticks", { args: { n: 100 } });
    await job.cancel();
    assert.equal(await job.status(), "CANCELLED");
    await assert.rejects(job.result(), /CANCELLED/);
  });

  it("status() tells the end another process recorded (slurmray cancel in a shell), not this Job's old state", async () => {
    const job = await new Cluster({ cwd }).submit("calc.py:ticks", { args: { n: 100 } });
    assert.equal(await job.status(), "RUNNING");
    const cancel = await runCli(["cancel", job.id], { cwd });
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal(await job.status(), "CANCELLED");
    assert.equal(job.record.reason, "cancelled by the user");
  });
});
