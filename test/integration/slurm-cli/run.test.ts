// `slurmray run` and the job commands on the real Slurm test bed, through the CLI as a user runs them.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { projectId } from "../../../src/config/load.js";
import { recordStatus } from "../../../src/jobs/registry.js";
import { runJob } from "../../../src/jobs/run.js";
import { closeSessions } from "../../../src/jobs/session.js";
import type { JobRecord } from "../../../src/model/job.js";
import { NO_ARGS } from "../../../src/model/job-args.js";
import { runCli, startCli, tempProject } from "../../helpers/cli.js";
import { removeRemote, scratchBaseDir, sshArgs, type TestBed, testbed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";

const FILES = {
  "work.py": `
import os, time
from helpers import shout

def hello(name="world"):
    print("hello from", os.environ.get("SLURMD_NODENAME"), flush=True)
    return {"greeting": shout(name), "node": os.environ.get("SLURMD_NODENAME")}

def fail():
    raise RuntimeError("remote failure on purpose")

def slow(seconds=120):
    print("started", flush=True)
    time.sleep(seconds)
    return "done"
`,
  "helpers.py": "def shout(name):\n    return f'hello {name}!'\n",
};

/** This file's base_dir on the bed, removed after its tests. */
let base = "";

/** A project with its own empty virtualenv, so the remote env needs no package index. */
function project(tb: TestBed, extra = ""): string {
  const cwd = tempProject({ ...FILES, "slurmray.toml": testbedToml(tb, { extra, baseDir: base }) });
  execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
  return cwd;
}

function remote(tb: TestBed, command: string): string {
  return spawnSync("ssh", [...sshArgs(tb), command], { encoding: "utf8" }).stdout;
}

function records(cwd: string): JobRecord[] {
  const dir = join(cwd, ".slurmray", "jobs");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .map((n) => JSON.parse(readFileSync(join(dir, n), "utf8")) as JobRecord);
}

async function runJson(cwd: string, args: string[]) {
  const r = await runCli(["run", ...args, "--json"], { cwd, timeoutMs: 120_000 });
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : null };
}

describe("slurmray on the Slurm test bed", () => {
  let tb: TestBed | null = null;
  before(() => {
    tb = testbed();
    if (!tb && process.env["CI"] === "true") throw new Error("test bed not running: bash scripts/test-cluster.sh up");
    if (tb) base = scratchBaseDir(tb);
  });
  after(() => tb && removeRemote(tb, [base]));
  const bed = (t: { skip(msg: string): void }): TestBed | null => {
    if (!tb) t.skip("test bed not running: bash scripts/test-cluster.sh up");
    return tb;
  };

  it("runs a function on the cluster; a warm run sends no code, installs nothing and costs at most 4 remote commands", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b);
    const first = await runJson(cwd, ["work.py:hello", "--args", '{"name": "slurm"}']);
    assert.equal(first.code, 0, first.stderr);
    const { node } = first.report.result;
    assert.deepEqual(first.report.result, { greeting: "hello slurm!", node });
    assert.match(node, /^n[1-3]$/, "the job ran on a node of the bed");
    assert.equal(first.report.state, "COMPLETED");
    assert.equal(first.report.env.created, true);
    assert.ok(first.report.code.files_uploaded >= 3, JSON.stringify(first.report.code));
    assert.match(first.stderr, new RegExp(`hello from ${node}\n`));

    const warm = await runJson(cwd, ["work.py:hello", "--args", '{"name": "again"}']);
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(warm.report.result.greeting, "hello again!");
    assert.equal(warm.report.env.reused, true);
    assert.deepEqual(warm.report.env.installed, []);
    assert.equal(warm.report.code.files_uploaded, 0);
    assert.ok(warm.report.remote_commands <= 4, `remote_commands ${warm.report.remote_commands}`);

    writeFileSync(join(cwd, "helpers.py"), "def shout(name):\n    return f'HELLO {name.upper()}!'\n");
    const changed = await runJson(cwd, ["work.py:hello", "--args", '{"name": "edit"}']);
    assert.equal(changed.report.code.files_uploaded, 1);
    assert.equal(changed.report.result.greeting, "HELLO EDIT!");
  });

  it("shows the remote traceback of a failing function and exits 1", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b);
    const r = await runCli(["run", "work.py:fail"], { cwd, timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /RuntimeError: remote failure on purpose/);
    assert.match(r.stderr, /work\.py", line 10, in fail/);
    assert.equal(records(cwd)[0]?.state, "FAILED");
  });

  it("detach, then status, logs, logs -f, attach and result from other invocations", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b);
    const d = await runCli(["run", "work.py:hello", "--detach"], { cwd, timeoutMs: 120_000 });
    assert.equal(d.code, 0, d.stderr);
    const id = d.stdout.trim();
    const a = await runCli(["attach", id], { cwd, timeoutMs: 120_000 });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(JSON.parse(a.stdout).greeting, "hello world!");
    const s = await runCli(["status", id, "--json"], { cwd });
    assert.equal(JSON.parse(s.stdout).state, "COMPLETED");
    const result = await runCli(["result", id, "--json"], { cwd });
    const node = JSON.parse(result.stdout).result.node;
    assert.match(node, /^n[1-3]$/, "the job ran on a node of the bed");
    const logs = await runCli(["logs", id], { cwd });
    assert.match(logs.stdout, new RegExp(`hello from ${node}\n`), "the log is the job's own output");
    // Its folder removed on the target (clean from another clone, a site purging old files): the result and the
    // log are errors naming what happened, never a null result or an empty log with exit code 0.
    removeRemote(b, [records(cwd).find((job) => job.id === id)!.remoteDir]);
    const lost = await runCli(["result", id], { cwd });
    assert.equal(lost.code, 1, lost.stdout);
    assert.equal(lost.stdout, "");
    assert.match(lost.stderr, /completed, but its result is not in .* on the target: the job's folder was removed/);
    const lostJson = await runCli(["result", id, "--json"], { cwd });
    assert.equal(JSON.parse(lostJson.stdout).exit_code, 1);
    const lostLog = await runCli(["logs", id], { cwd });
    assert.equal(lostLog.code, 1);
    assert.match(lostLog.stderr, /its log is not in .* on the target/);
    const lostOutputs = await runCli(["result", id, "--outputs"], { cwd });
    assert.equal(lostOutputs.code, 1);
    assert.match(lostOutputs.stderr, /the job's folder holding .* is not there on the target/);
    assert.doesNotMatch(lostOutputs.stderr, /brought back/);

    const slow = (await runCli(["run", "work.py:slow", "--args", '{"seconds": 3}', "--detach"], { cwd, timeoutMs: 120_000 })).stdout.trim();
    const followed = await runCli(["logs", slow, "-f"], { cwd, timeoutMs: 120_000 });
    assert.equal(followed.code, 0, followed.stderr);
    assert.equal(followed.stdout.match(/started/g)?.length, 1);
    assert.equal(JSON.parse((await runCli(["status", slow, "--json"], { cwd })).stdout).state, "COMPLETED");
  });

  it("Ctrl-C during run cancels the Slurm job (nothing left in squeue) and exits 130", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b);
    const { child, done } = startCli(["run", "work.py:slow"], { cwd, timeoutMs: 120_000 });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 300 && !stderr.includes("started"); i++) await sleep(100);
    assert.match(stderr, /started/);
    const job = records(cwd)[0]!;
    assert.match(remote(b, `squeue -h -j ${job.schedulerId} -o %T`), /RUNNING/);
    child.kill("SIGINT");
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(remote(b, `squeue -h -j ${job.schedulerId} -t PD,R,CG -o %T`).trim(), "");
    assert.equal(records(cwd)[0]!.state, "CANCELLED");
  });

  it("cancel stops a detached job on the cluster", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b);
    const id = (await runCli(["run", "work.py:slow", "--detach"], { cwd, timeoutMs: 120_000 })).stdout.trim();
    const job = records(cwd).find((j) => j.id === id)!;
    const c = await runCli(["cancel", id], { cwd, timeoutMs: 90_000 });
    assert.equal(c.code, 0, c.stderr);
    assert.equal(remote(b, `squeue -h -j ${job.schedulerId} -t PD,R,CG -o %T`).trim(), "");
    assert.equal(JSON.parse((await runCli(["status", id, "--json"], { cwd })).stdout).state, "CANCELLED");
  });

  it("a cancel that reaches the record while the job is being submitted stands: the job is cancelled once it has its id", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b);
    // `slurmray cancel` from another shell, in the moment between the record's SUBMITTING and sbatch's answer.
    let seen = "";
    const onStep = (step: { step: string; phase: string }): void => {
      if (step.step !== "submit" || step.phase !== "start") return;
      setTimeout(() => {
        const job = records(cwd).find((r) => r.state === "SUBMITTING")!;
        seen = job.state;
        recordStatus(cwd, job.id, { state: "CANCELLED", endedAt: new Date().toISOString(), reason: "cancelled by the user" });
      }, 5);
    };
    const report = await runJob({ cwd, entry: "work.py:slow", args: NO_ARGS, scriptArgs: [], resources: {}, detach: true, dryRun: false, onStep });
    await closeSessions();
    assert.equal(seen, "SUBMITTING");
    const job = records(cwd).find((r) => r.id === report.job_id)!;
    assert.deepEqual([report.state, job.state, job.reason], ["CANCELLED", "CANCELLED", "cancelled by the user"]);
    assert.match(job.schedulerId ?? "", /^\d+$/, "the record gained the id it was cancelled by");
    assert.equal(remote(b, `squeue -h -j ${job.schedulerId} -t PD,R,CG -o %T`).trim(), "", "nothing of it is left in the queue");
  });

  it("two concurrent jobs of one project each get their own result", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b);
    const [one, two] = await Promise.all([runJson(cwd, ["work.py:hello", "--args", '{"name": "one"}']), runJson(cwd, ["work.py:hello", "--args", '{"name": "two"}'])]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual([one.report.result.greeting, two.report.result.greeting], ["hello one!", "hello two!"]);
  });

  it("--dry-run lists the code that would be sent and changes nothing remotely", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b);
    const r = await runJson(cwd, ["work.py:hello", "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...r.report.dry_run].sort(), ["helpers.py", "slurmray.toml", "work.py"]);
    assert.match(r.stderr, /code sync: 3 change\(s\) would be sent/);
    assert.doesNotMatch(r.stderr, /up to date/, "the progress line agrees with the list");
    assert.equal(remote(b, `test -e ${base}/projects/${projectId(cwd)} && echo exists || echo absent`).trim(), "absent");
    assert.deepEqual(records(cwd), []);
  });

  it("refuses a bad sbatch option with exit 2 before anything is sent", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b, 'sbatch = ["exclusive"]\n');
    const r = await runCli(["run", "work.py:hello"], { cwd });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /sbatch option "exclusive": each entry must be one option such as "--exclusive"/);
    assert.equal(remote(b, `test -e ${base}/projects/${projectId(cwd)} && echo exists || echo absent`).trim(), "absent");
  });

  it("clean removes old job folders on the cluster and reports the space freed", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b);
    const first = await runJson(cwd, ["work.py:hello"]);
    const second = await runJson(cwd, ["work.py:hello"]);
    const dir = `${base}/projects/${projectId(cwd)}/jobs/${first.report.job_id}`;
    remote(b, `find ${dir} -exec touch -d "10 days ago" {} +`);
    const r = await runCli(["clean", "--older-than", "7", "--json"], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).removed, [first.report.job_id]);
    assert.ok(JSON.parse(r.stdout).bytes_freed > 0);
    assert.equal(remote(b, `test -e ${dir} && echo exists || echo absent`).trim(), "absent");
    assert.match(remote(b, `ls ${base}/projects/${projectId(cwd)}/jobs`), new RegExp(second.report.job_id));
  });

  it("warns before running when the entry imports a project module that is not shipped", async (t) => {
    const b = bed(t);
    if (!b) return;
    const cwd = project(b);
    writeFileSync(join(cwd, ".slurmrayignore"), "local_only.py\n");
    writeFileSync(join(cwd, "local_only.py"), "VALUE = 1\n");
    writeFileSync(join(cwd, "uses.py"), "import local_only\n\ndef f():\n    return local_only.VALUE\n");
    const r = await runJson(cwd, ["uses.py:f"]);
    assert.equal(r.code, 1);
    assert.ok(r.report.warnings.some((w: string) => /^uses\.py:1: imports local_only, but local_only\.py is not shipped/.test(w)), JSON.stringify(r.report.warnings));
    assert.equal(r.report.error.type, "ModuleNotFoundError");
  });

  it("a job ended by a node failure is submitted again, up to max_retries", async (t) => {
    const b = bed(t);
    if (!b) return;
    // --exclusive: no other test's job shares the node this test sets DOWN.
    const cwd = project(b, 'sbatch = ["--no-requeue", "--exclusive"]\nmax_retries = 1\n');
    const { child, done } = startCli(["run", "work.py:slow", "--args", '{"seconds": 3}', "--json"], { cwd, timeoutMs: 180_000 });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 300 && !stderr.includes("started"); i++) await sleep(100);
    const first = records(cwd)[0]!;
    const node = remote(b, `squeue -h -j ${first.schedulerId} -o %N`).trim();
    const scontrol = (state: string) =>
      execFileSync("scontrol", ["update", `NodeName=${node}`, `State=${state}`, ...(state === "DOWN" ? ["Reason=slurmray-retry-test"] : [])], {
        env: { ...process.env, SLURM_CONF: b.slurmConf },
      });
    try {
      scontrol("DOWN");
      const r = await done;
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.result, "done");
      assert.match(report.warnings.join("\n"), /a node failed; submitting it again \(retry 1 of 1\)/);
      assert.notEqual(records(cwd)[0]!.schedulerId, first.schedulerId);
    } finally {
      // The bed's ReturnToService=2 may already have brought the node back, which makes RESUME an error.
      if (/down/i.test(remote(b, `sinfo -h -n ${node} -o %T`))) scontrol("RESUME");
    }
  });

  it("runs the same job over the ssh2 transport, and with a password from SLURMRAY_PASSWORD", async (t) => {
    const b = bed(t);
    if (!b) return;
    const ssh2 = project(b, 'transport = "ssh2"\n');
    const viaSsh2 = await runJson(ssh2, ["work.py:hello", "--args", '{"name": "ssh2"}']);
    assert.equal(viaSsh2.code, 0, viaSsh2.stderr);
    assert.equal(viaSsh2.report.result.greeting, "hello ssh2!");

    const withPassword = project(b);
    const toml = readFileSync(join(withPassword, "slurmray.toml"), "utf8").replace(/^identity_file = .*$/m, "");
    writeFileSync(join(withPassword, "slurmray.toml"), toml);
    // No key may be offered: an empty agent socket and no default identity for this user's ~/.ssh.
    const viaPassword = await runCli(["run", "work.py:hello", "--args", '{"name": "pw"}', "--json"], {
      cwd: withPassword,
      env: { SLURMRAY_PASSWORD: b.password, SSH_AUTH_SOCK: "" },
      timeoutMs: 120_000,
    });
    assert.equal(viaPassword.code, 0, viaPassword.stderr);
    assert.equal(JSON.parse(viaPassword.stdout).result.greeting, "hello pw!");
  });

  it("a submission Slurm refuses is reported and recorded FAILED, not left half-done", async (t) => {
    const b = bed(t);
    if (!b) return;
    // A constraint no node has: only sbatch itself can refuse it (the partition pre-flight cannot know).
    const cwd = project(b, 'constraint = "nosuchfeature"\n');
    const r = await runCli(["run", "work.py:hello"], { cwd, timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Invalid feature specification/i);
    const [job] = records(cwd);
    assert.equal(job?.state, "FAILED");
    assert.match(job?.reason ?? "", /^submission failed: /);
    assert.equal(JSON.parse((await runCli(["status", job!.id, "--json"], { cwd })).stdout).state, "FAILED");
  });
});
