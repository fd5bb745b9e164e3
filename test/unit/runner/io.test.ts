// runner.py: script mode, output into job.log, cancellation, status.json, environment, locale, Ray wiring.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { scratchDir } from "../../helpers/scratch.js";
import { RUNTIME_FILES } from "../../../src/backends/runtime.js";
import {
  asciiLocale,
  fakeRayDir,
  job,
  makeJobDir,
  removeJobDirs,
  runnerPath,
  runRunner,
  startRunner,
  waitFor,
} from "./harness.js";

after(removeJobDirs);

const awkwardArgv = ["two words", `it's "quoted"`, "ünïcødé ✓ 日本", "--flag=$HOME", "", "a\\b;c|d"];

/** Script mode: script.py writes its argv into a JSON file we read back. */
async function runScript(exitWith: string, locale: Record<string, string> = {}) {
  const out = makeJobDir("{}");
  const argvFile = join(out.dir, "argv.json");
  const run = await runRunner(
    job("script.py", { script_args: awkwardArgv, env: { ARGV_OUT: argvFile, EXIT_WITH: exitWith } }),
    { env: locale },
  );
  return { run, argv: JSON.parse(readFileSync(argvFile, "utf8")) };
}

describe("runner script mode", () => {
  test("argv with spaces, quotes and unicode reaches the script as __main__; exit 0 is success", async () => {
    const { run, argv } = await runScript("");
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(argv, awkwardArgv);
    assert.equal(run.log(), "running as __main__\n");
    assert.deepEqual(run.json("result.json"), { value: null });
  });

  test("sys.exit(0) is success", async () => {
    const { run } = await runScript("0");
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(run.json("result.json"), { value: null });
    assert.equal(run.json("status.json").state, "COMPLETED");
  });

  test("sys.exit(3) fails with exit code 3", async () => {
    const { run } = await runScript("3");
    assert.equal(run.code, 3);
    const error = run.json("error.json");
    assert.deepEqual([error.type, error.message], ["SystemExit", "exited with code 3"]);
    assert.match(String(error.traceback), /script\.py", line \d+, in <module>/);
    assert.doesNotMatch(String(error.traceback), /runpy|runner\.py/);
    assert.deepEqual([run.json("status.json").state, run.json("status.json").exit_code], ["FAILED", 3]);
  });

  test("argv is intact in a locale where Python would choose ASCII", async () => {
    const { run, argv } = await runScript("", asciiLocale);
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(argv, awkwardArgv);
  });
});

describe("runner data and output", () => {
  for (const [name, locale] of [
    ["the default locale", {}],
    ["an ASCII locale", asciiLocale],
  ] as const) {
    test(`non-ASCII args, output, env and result survive in ${name}`, async () => {
      const text = "Grüße, 世界 ✓ — ½";
      const run = await runRunner(job("funcs.py:echo", { args: { text, ключ: "значение" }, env: { SR_NAME: text } }), {
        env: locale,
      });
      assert.equal(run.code, 0, run.log());
      assert.deepEqual(run.json("result.json"), { value: { text, ключ: "значение" } });
      assert.equal(run.log(), `echo: ${text}\n`);
      const env = await runRunner(job("funcs.py:env", { args: { name: "SR_NAME" }, env: { SR_NAME: text } }), { env: locale });
      assert.deepEqual(env.json("result.json"), { value: text });
    });
  }

  test("a ~5 MB argument is passed whole", async () => {
    const blob = "ab✓".repeat(1_700_000);
    const run = await runRunner(job("funcs.py:size", { args: { blob } }));
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(run.json("result.json"), { value: blob.length });
  });

  test("100,000 printed lines all reach job.log, in order", async () => {
    const lines = 100_000;
    const run = await runRunner(job("funcs.py:shout", { args: { lines } }));
    assert.equal(run.code, 0);
    const expected = Array.from({ length: lines }, (_, i) => `line ${i}\n`).join("");
    assert.ok(run.log() === expected, `job.log differs: ${run.log().length} chars, expected ${expected.length}`);
  });

  test("job.json env vars are visible to the function", async () => {
    const run = await runRunner(job("funcs.py:env", { args: { name: "SR_TEST_VAR" }, env: { SR_TEST_VAR: "on" } }));
    assert.deepEqual(run.json("result.json"), { value: "on" });
  });
});

describe("runner lifecycle", () => {
  test("output is unbuffered and status.json is RUNNING with the pid while the function runs", async () => {
    const started = startRunner(job("funcs.py:nap", { args: { seconds: 0.8 } }));
    await waitFor(() => started.log().includes("napping"), 10_000, "the function's first print in job.log");
    const running = started.json("status.json");
    assert.equal(running.state, "RUNNING");
    assert.equal(running.pid, started.child.pid);
    assert.match(String(running.started_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(started.has("result.json"), false);
    assert.equal((await started.exited).code, 0);
    const done = started.json("status.json");
    assert.deepEqual([done.state, done.exit_code, done.pid, done.started_at], ["COMPLETED", 0, running.pid, running.started_at]);
    assert.ok(Date.parse(String(done.ended_at)) >= Date.parse(String(running.started_at)));
    assert.deepEqual(started.json("result.json"), { value: "woke" });
  });

  test("the pid in status.json is the runner's even when it restarts itself for UTF-8", async () => {
    const started = startRunner(job("funcs.py:nap", { args: { seconds: 0.3 } }), { env: asciiLocale });
    await waitFor(() => started.log().includes("napping"), 10_000, "the function's first print");
    assert.equal(started.json("status.json").pid, started.child.pid);
    assert.equal((await started.exited).code, 0);
  });

  test("SIGTERM during a sleep records Cancelled and exits 143", async () => {
    const started = startRunner(job("funcs.py:nap", { args: { seconds: 30 } }));
    await waitFor(() => started.log().includes("napping"), 10_000, "the function to start sleeping");
    const sentAt = Date.now();
    started.child.kill("SIGTERM");
    const { code } = await started.exited;
    assert.equal(code, 143);
    assert.ok(Date.now() - sentAt < 5_000, "the runner stops promptly");
    const error = started.json("error.json");
    assert.equal(error.type, "Cancelled");
    assert.equal(error.message, "the job was cancelled (SIGTERM)");
    assert.match(String(error.traceback), /funcs\.py", line \d+, in nap\n/);
    const status = started.json("status.json");
    assert.deepEqual([status.state, status.exit_code], ["CANCELLED", 143]);
    assert.equal(started.has("result.json"), false);
  });

  test("SIGINT records Cancelled with exit code 130", async () => {
    const started = startRunner(job("funcs.py:nap", { args: { seconds: 30 } }));
    await waitFor(() => started.log().includes("napping"), 10_000, "the function to start sleeping");
    started.child.kill("SIGINT");
    assert.equal((await started.exited).code, 130);
    assert.equal(started.json("error.json").message, "the job was cancelled (SIGINT)");
  });
});

describe("runner Python environment", () => {
  test("ray is not imported unless the job asks for it", async () => {
    const run = await runRunner(job("funcs.py:ray_state"), { env: { PYTHONPATH: fakeRayDir } });
    assert.deepEqual(run.json("result.json"), { value: { imported: false, calls: null, RAY_ADDRESS: null } });
  });

  test("with ray.address the runner sets RAY_ADDRESS and leaves connecting to the code", async () => {
    const ray = { address: "10.0.0.7:6379" };
    const run = await runRunner(job("funcs.py:ray_state", { ray }), { env: { PYTHONPATH: fakeRayDir } });
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(run.json("result.json"), { value: { imported: false, calls: null, RAY_ADDRESS: "10.0.0.7:6379" } });
  });

  test('the code\'s own ray.init(address="auto") joins the job\'s cluster, with no "init twice" error', async () => {
    const ray = { address: "10.0.0.7:6379" };
    const run = await runRunner(job("funcs.py:ray_init_auto", { ray }), { env: { PYTHONPATH: fakeRayDir } });
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(run.json("result.json"), { value: { imported: true, calls: ["10.0.0.7:6379"], RAY_ADDRESS: "10.0.0.7:6379" } });
  });

  test('pool "ray": an unchanged `from multiprocessing import Pool` gets Ray\'s Pool', async () => {
    const ray = { address: "10.0.0.7:6379" };
    const run = await runRunner(job("funcs.py:pool_squares", { ray, pool: "ray", args: { n: 4 } }), { env: { PYTHONPATH: fakeRayDir } });
    assert.equal(run.code, 0, run.log());
    assert.deepEqual(run.json("result.json"), { value: { ray: true, remote_args: { num_cpus: 1, scheduling_strategy: "SPREAD" }, squares: [0, 1, 4, 9] } });
    const plain = await runRunner(job("funcs.py:pool_squares", { args: { n: 2 } }), { env: { PYTHONPATH: fakeRayDir } });
    assert.deepEqual(plain.json("result.json"), { value: { ray: false, remote_args: null, squares: [0, 1] } });
  });

  test("a job with Ray is still recorded as Cancelled on SIGTERM", async () => {
    const ray = { address: "10.0.0.7:6379" };
    const started = startRunner(job("funcs.py:nap", { args: { seconds: 30 }, ray }), { env: { PYTHONPATH: fakeRayDir } });
    await waitFor(() => started.log().includes("napping"), 10_000, "the function to start sleeping");
    started.child.kill("SIGTERM");
    assert.equal((await started.exited).code, 143);
    assert.equal(started.json("error.json").type, "Cancelled");
  });

  test("a job run as root loses root's power to write through file modes, and so does a program it starts", async () => {
    const run = await runRunner(job("funcs.py:capabilities"));
    assert.equal(run.code, 0, run.log());
    const { uid, self, child } = run.json("result.json").value as { uid: number; self: Record<string, number>; child: Record<string, number> };
    const override = 1 << 1; // CAP_DAC_OVERRIDE
    const readAll = 1 << 2; // CAP_DAC_READ_SEARCH: kept
    assert.equal(uid, process.getuid?.());
    for (const sets of [self, child]) {
      assert.equal(sets.CapEff & override, 0, JSON.stringify(sets));
      if (uid !== 0) continue; // a plain user holds none of these: nothing to drop
      assert.equal(sets.CapBnd & override, 0, JSON.stringify(sets));
      assert.equal(sets.CapEff & readAll, readAll, JSON.stringify(sets));
    }
    assert.doesNotMatch(run.log(), /warning/);
  });

  test("the runner writes no __pycache__ into its own dir (the runtime stays as uploaded); the job's modules keep theirs", async () => {
    const runtime = scratchDir("srruntime-");
    const code = scratchDir("srcode-");
    try {
      for (const file of RUNTIME_FILES) copyFileSync(join(dirname(runnerPath), file), join(runtime, file));
      writeFileSync(join(code, "entry.py"), "import helper\n\ndef f():\n    return helper.V\n");
      writeFileSync(join(code, "helper.py"), "V = 7\n");
      const run = await runRunner(job("entry.py:f", { code_dir: code }), { runner: join(runtime, "runner.py"), env: { PYTHONDONTWRITEBYTECODE: "" } });
      assert.equal(run.code, 0, run.log());
      assert.deepEqual(run.json("result.json"), { value: 7 });
      assert.equal(existsSync(join(runtime, "__pycache__")), false);
      assert.ok(readdirSync(join(code, "__pycache__")).some((name) => name.startsWith("helper.")), "the job's own imports are cached as usual");
    } finally {
      rmSync(runtime, { recursive: true, force: true });
      rmSync(code, { recursive: true, force: true });
    }
  });

  test("queue.py next to runner.py does not shadow the standard library's queue", async () => {
    const runtime = scratchDir("srruntime-");
    try {
      for (const file of RUNTIME_FILES) copyFileSync(join(dirname(runnerPath), file), join(runtime, file));
      writeFileSync(join(runtime, "queue.py"), "raise RuntimeError('the runtime queue.py was imported')\n");
      const run = await runRunner(job("funcs.py:queue_file"), { runner: join(runtime, "runner.py") });
      assert.equal(run.code, 0, run.log());
      const file = String(run.json("result.json").value);
      assert.ok(!file.startsWith(runtime) && file.endsWith("queue.py"), file);
    } finally {
      rmSync(runtime, { recursive: true, force: true });
    }
  });
});
