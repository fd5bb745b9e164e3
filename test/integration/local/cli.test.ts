// The CLI on the local default target, spawned as a user would run it.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parseHandle } from "../../../src/backends/local/handle.js";
import { processGroupAlive } from "../../../src/backends/local/process-group.js";
import { loadConfig } from "../../../src/config/load.js";
import type { JobRecord } from "../../../src/model/job.js";
import { runCli, startCli, tempProject } from "../../helpers/cli.js";

const PROJECT = {
  "work.py": `
import os, subprocess, sys, time

def add(a, b):
    print("adding", a, b)
    return a + b

def fail(x):
    return helper(x)

def helper(x):
    return x / 0

def sleepy(seconds=60):
    # A child process too: cancelling must stop the whole process group.
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print("sleeping", flush=True)
    time.sleep(seconds)
    return "woke"

def kinds(**kw):
    return {k: [type(v).__name__, repr(v)] for k, v in kw.items()}

def huge(n):
    return [n.bit_length(), n + 1]

def environment(names):
    return {name: os.environ.get(name) for name in names}
`,
  "tool.py": `
import sys, json
print(json.dumps(sys.argv[1:]))
sys.exit(3 if "--fail" in sys.argv else 0)
`,
};

/** The process group of a local job, from its handle "<pid>:<start>". */
function pgidOf(job: JobRecord): number {
  return parseHandle(job.schedulerId!)!.pgid;
}

function jobRecords(root: string): JobRecord[] {
  const dir = join(root, ".slurmray", "jobs");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .map((n) => JSON.parse(readFileSync(join(dir, n), "utf8")) as JobRecord);
}

async function waitFor(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("slurmray CLI on the local target", () => {
  it("runs a function and prints its JSON result on stdout, the log on stderr", async () => {
    const cwd = tempProject(PROJECT);
    const r = await runCli(["run", "work.py:add", "--args", '{"a": 2, "b": 40}'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), 42);
    assert.match(r.stderr, /adding 2 40/);
    const [job] = jobRecords(cwd);
    assert.equal(job?.state, "COMPLETED");
  });

  it("--env NAME=VALUE sets the job's environment variables; a name given twice keeps its last value", async () => {
    const cwd = tempProject(PROJECT);
    const args = JSON.stringify({ names: ["OMP_NUM_THREADS", "NOTE"] });
    const r = await runCli(["run", "work.py:environment", "--env", "OMP_NUM_THREADS=1", "--env", "NOTE=a=b c", "--env", "OMP_NUM_THREADS=4", "--args", args], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { OMP_NUM_THREADS: "4", NOTE: "a=b c" });
    assert.deepEqual(jobRecords(cwd)[0]?.spec.env, { OMP_NUM_THREADS: "4", NOTE: "a=b c" });
  });

  it("--json prints exactly one JSON object with the contract's fields", async () => {
    const cwd = tempProject(PROJECT);
    const r = await runCli(["run", "work.py:add", "--args", '{"a": "x", "b": "y"}', "--json"], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.result, "xy");
    assert.equal(report.state, "COMPLETED");
    assert.equal(report.target, "local");
    for (const key of ["job_id", "error", "env", "code", "timings", "remote_commands"]) assert.ok(key in report, key);
    for (const key of ["connect", "code_sync", "env_sync", "submit", "queue_wait", "run", "fetch", "total"]) {
      assert.equal(typeof report.timings[key], "number", key);
    }
    assert.match(r.stderr, /adding x y/);
  });

  it("shows the Python traceback of a failing function and exits 1", async () => {
    const cwd = tempProject(PROJECT);
    const r = await runCli(["run", "work.py:fail", "--args", '{"x": 1}'], { cwd });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ZeroDivisionError: division by zero/);
    assert.match(r.stderr, /work\.py", line 12, in helper/);
    assert.doesNotMatch(r.stderr, /\.ts:\d+|node:internal/);
    assert.equal(r.stdout, "");
    const json = await runCli(["run", "work.py:fail", "--args", '{"x": 1}', "--json"], { cwd });
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout).error.type, "ZeroDivisionError");
  });

  it("runs a script with its arguments after --", async () => {
    const cwd = tempProject(PROJECT);
    const ok = await runCli(["run", "tool.py", "--", "a b", "--flag", "é"], { cwd });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /\["a b", "--flag", "\\u00e9"\]/);
    const bad = await runCli(["run", "tool.py", "--", "--fail"], { cwd });
    assert.equal(bad.code, 1);
  });

  it("detach, then status, logs, result and jobs from another invocation", async () => {
    const cwd = tempProject(PROJECT);
    const d = await runCli(["run", "work.py:add", "--args", '{"a": 1, "b": 2}', "--detach"], { cwd });
    assert.equal(d.code, 0, d.stderr);
    const id = d.stdout.trim();
    assert.match(id, /^\d{8}-\d{6}-[0-9a-f]{6}$/);
    await waitFor(() => jobRecords(cwd).some((j) => j.id === id), "the job record");
    let state = "";
    for (let i = 0; i < 100 && state !== "COMPLETED"; i++) {
      const s = await runCli(["status", id, "--json"], { cwd });
      state = JSON.parse(s.stdout).state;
      if (state !== "COMPLETED") await sleep(100);
    }
    assert.equal(state, "COMPLETED");
    const logs = await runCli(["logs", id], { cwd });
    assert.match(logs.stdout, /adding 1 2/);
    const result = await runCli(["result", id], { cwd });
    assert.equal(JSON.parse(result.stdout), 3);
    const jobs = await runCli(["jobs", "--json"], { cwd });
    assert.deepEqual(JSON.parse(jobs.stdout).jobs.map((j: JobRecord) => [j.id, j.state]), [[id, "COMPLETED"]]);
    const table = await runCli(["jobs"], { cwd });
    assert.match(table.stdout, new RegExp(`${id}\\s+local\\s+COMPLETED`));
  });

  it("attach follows a detached job to its result; leftover processes end with the job", async () => {
    const cwd = tempProject(PROJECT);
    const d = await runCli(["run", "work.py:sleepy", "--args", '{"seconds": 1}', "--detach"], { cwd });
    const id = d.stdout.trim();
    const a = await runCli(["attach", id], { cwd });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(JSON.parse(a.stdout), "woke");
    assert.match(a.stderr, /sleeping/);
    // The subprocess the function left running was stopped with the job.
    const job = jobRecords(cwd)[0]!;
    assert.equal(processGroupAlive(pgidOf(job)), false);
  });

  it("logs -f follows a running job until it ends", async () => {
    const cwd = tempProject(PROJECT);
    const id = (await runCli(["run", "work.py:sleepy", "--args", '{"seconds": 2}', "--detach"], { cwd })).stdout.trim();
    const r = await runCli(["logs", id, "-f"], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sleeping/);
    assert.equal(JSON.parse((await runCli(["status", id, "--json"], { cwd })).stdout).state, "COMPLETED");
  });

  it("cancel stops a detached job and its whole process group", async () => {
    const cwd = tempProject(PROJECT);
    const d = await runCli(["run", "work.py:sleepy", "--detach"], { cwd });
    const id = d.stdout.trim();
    const job = jobRecords(cwd).find((j) => j.id === id)!;
    const pgid = pgidOf(job);
    await waitFor(() => readFileSync(join(job.remoteDir, "job.log"), "utf8").includes("sleeping"), "the job to start");
    const c = await runCli(["cancel", id], { cwd });
    assert.equal(c.code, 0, c.stderr);
    assert.equal(processGroupAlive(pgid), false);
    const s = await runCli(["status", id, "--json"], { cwd });
    assert.equal(JSON.parse(s.stdout).state, "CANCELLED");
  });

  it("Ctrl-C during run cancels the job, leaves no process behind, exits 130", async () => {
    const cwd = tempProject(PROJECT);
    const { child, done } = startCli(["run", "work.py:sleepy"], { cwd });
    await waitFor(() => jobRecords(cwd).some((j) => j.schedulerId !== null && existsSync(join(j.remoteDir, "job.log")) && readFileSync(join(j.remoteDir, "job.log"), "utf8").includes("sleeping")), "the job to start");
    const job = jobRecords(cwd)[0]!;
    child.kill("SIGINT");
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(processGroupAlive(pgidOf(job)), false);
    assert.equal(jobRecords(cwd)[0]!.state, "CANCELLED");
  });

  it("arguments reach the function as written: 1.0 stays a float, integers past 2**53 keep every digit, 1e400 is inf", async () => {
    const cwd = tempProject(PROJECT);
    const text = '{"f": 1.0, "big": 18446744073709551617, "inf": 1e400, "neg": -0.0, "nested": {"f": 2.0}}';
    writeFileSync(join(cwd, "args.json"), text);
    const expected = {
      f: ["float", "1.0"],
      big: ["int", "18446744073709551617"],
      inf: ["float", "inf"],
      neg: ["float", "-0.0"],
      nested: ["dict", "{'f': 2.0}"],
    };
    for (const given of [["--args", text], ["--args-file", "args.json"]]) {
      const r = await runCli(["run", "work.py:kinds", ...given, "--json"], { cwd });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).result, expected, given[0]);
    }
    // Past Python's 4,300-digit guard for text: the user's own argument and result, read and written whole.
    const digits = "9".repeat(5000);
    const huge = await runCli(["run", "work.py:huge", "--args", `{"n": ${digits}}`], { cwd });
    assert.equal(huge.code, 0, huge.stderr.slice(-500));
    assert.equal(huge.stdout.replace(/\s/g, ""), `[16610,1${"0".repeat(5000)}]`);
    // The record keeps the text as given, so a rerun from it (map --retry-failed) passes the same values.
    const record = jobRecords(cwd).find((job) => job.spec.entry === "work.py:kinds");
    assert.equal(record!.spec.args, text);
    // status --json and jobs --json show them as the object they are, with the same text.
    for (const command of [["status", record!.id], ["jobs"]]) {
      const shown = await runCli([...command, "--json"], { cwd });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /"args": \{\n\s+"f": 1\.0,\n\s+"big": 18446744073709551617,\n\s+"inf": 1e400,/, command[0]);
    }
  });

  it("resources this machine does not apply are named in a warning, not ignored without a word", async () => {
    const cwd = tempProject(PROJECT);
    const asked = await runCli(["run", "work.py:add", "--args", '{"a": 1, "b": 2}', "--mem", "64", "--time", "1", "--json"], { cwd });
    assert.equal(asked.code, 0, asked.stderr);
    const warning = "--mem, --time: not applied on target local (it runs jobs on this machine without limits)";
    assert.deepEqual(JSON.parse(asked.stdout).warnings, [warning]);
    assert.match(asked.stderr, /--mem, --time: not applied on target local/);
    const plain = await runCli(["run", "work.py:add", "--args", '{"a": 1, "b": 2}', "--json"], { cwd });
    assert.deepEqual(JSON.parse(plain.stdout).warnings, []);
  });

  it("refuses bad input with exit code 2 and creates no job", async () => {
    const cwd = tempProject({ ...PROJECT, "slurmray.toml": "" });
    const cases: [string[], RegExp][] = [
      [["run", "work.py:add", "--args", "{oops"], /--args: not valid JSON/],
      [["run", "work.py:add", "--args", "[1]"], /--args: expected a JSON object of keyword arguments/],
      [["run", "missing.py:f"], /no such file/],
      [["run", "work.py:1bad"], /"1bad" is not a Python function name/],
      [["run", "work.py:add", "--nodes", "0"], /--nodes: expected a whole number from 1 to 1024, got "0"/],
      [["run", "work.py:add", "--mem", "lots"], /--mem: expected a number of GB/],
      [["run", "work.py:add", "--target", "cluster"], /no target named "cluster"/],
      [["run", "work.py:add", "--bogus"], /unknown option '--bogus'/],
      [["run", "work.py:add", "--nodes", "2"], /a local target runs on one machine/],
      [["run", "tool.py", "--args", '{"a": 1}'], /is a script; pass its arguments after --/],
      [["result", "zzz"], /a job id looks like/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, { cwd });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
    }
    assert.deepEqual(jobRecords(cwd), []);
  });

  it("a bad slurmray.toml stops everything with exit code 2", async () => {
    const cwd = tempProject({ ...PROJECT, "slurmray.toml": '[project]\nnmae = "x"\n' });
    const r = await runCli(["run", "work.py:add", "--json"], { cwd });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /project: unknown key "nmae"; valid keys: name, default_target/);
    assert.equal(JSON.parse(r.stdout).exit_code, 2);
    assert.deepEqual(jobRecords(cwd), []);
  });

  it("init writes a slurmray.toml that loads, and refuses to overwrite it", async () => {
    const cwd = tempProject({ "x.py": "def f():\n    return 1\n" });
    assert.equal((await runCli(["init"], { cwd })).code, 0);
    assert.match(readFileSync(join(cwd, "slurmray.toml"), "utf8"), /\[targets\.local\]/);
    // No fixed name: two clones of one folder name keep remote state of their own (folder name + hash).
    assert.match(loadConfig(cwd).projectName, new RegExp(`^${basename(cwd)}-[0-9a-f]{8}$`));
    const r = await runCli(["run", "x.py:f"], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await runCli(["init"], { cwd })).code, 2);
  });
});
