// The live `slurmray jobs` view, driven through a real pseudo-terminal (tmux, on a server of this test's own):
// select a job, cancel it, confirm, and the job is gone — its process group locally, from squeue on the bed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runCli } from "../../helpers/cli.js";
import { sshArgs } from "../../helpers/testbed.js";
import { bedProject, venvProject } from "./project.js";
import { hasTmux, Terminal } from "./terminal.js";
import { processGroupAlive } from "../../../src/backends/local/process-group.js";
import { findJob } from "../../../src/jobs/registry.js";

const WORK = "import time\n\ndef slow(seconds=300):\n    print('started', flush=True)\n    time.sleep(seconds)\n    return 'done'\n\ndef quick():\n    return {'answer': 42}\n";


async function detached(cwd: string, entry: string): Promise<string> {
  const r = await runCli(["run", entry, "--detach"], { cwd, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** Two running jobs, in the view's order: the registry's newest first (ids sort by time, then at random). */
async function twoSlowJobs(cwd: string): Promise<[string, string]> {
  const ids = [await detached(cwd, "work.py:slow"), await detached(cwd, "work.py:slow")].sort().reverse();
  return [ids[0]!, ids[1]!];
}

/**
 * Opens the view, selects `victim` (the second row: the view lists the newest first), cancels it and quits.
 * `node`: the NODES column the scheduler's details fill in.
 */
async function cancelThroughView(t: TestContext, cwd: string, newest: string, victim: string, node: string): Promise<void> {
  const term = new Terminal(cwd, ["jobs"]);
  t.after(() => term.close());
  await term.waitFor(new RegExp(`> ${newest} .*RUNNING +\\S+ +${node} [\\s\\S]*  ${victim} .*RUNNING`));
  term.press("j");
  await term.waitFor(new RegExp(`> ${victim} `));
  term.press("c");
  await term.waitFor(new RegExp(`Cancel job ${victim} \\(RUNNING on \\w+\\)\\? y/n`));
  term.press("y");
  const screen = await term.waitFor(new RegExp(`job ${victim} cancelled`), 60);
  assert.match(screen, new RegExp(`> ${victim} .*CANCELLED`));
  assert.match(screen, new RegExp(`  ${newest} .*RUNNING`), "the other job is untouched");
  term.press("q");
  await term.waitFor(/EXITED 0/);
}

// CI installs tmux (.ci/run): there a missing tmux fails the tests instead of skipping them.
describe("the live jobs view", { skip: hasTmux() || process.env["CI"] === "true" ? false : "tmux is not installed" }, () => {
  it("on the local target: selects a job with j, cancels it after y, and shows results and logs", async (t) => {
    const cwd = venvProject({ "work.py": WORK, "slurmray.toml": '[project]\nname = "view"\ndefault_target = "local"\n' });
    const done = await runCli(["run", "work.py:quick"], { cwd });
    assert.equal(done.code, 0, done.stderr);
    // Job ids sort by the second they were made in: the slow jobs' must sort after the quick one's.
    await sleep(1100);
    const [newest, victim] = await twoSlowJobs(cwd);
    t.after(() => runCli(["cancel", newest], { cwd }));
    await cancelThroughView(t, cwd, newest, victim, "localhost");
    // A local job's scheduler id is "<process group>:<start time>".
    const alive = (id: string) => processGroupAlive(Number(findJob(cwd, id).schedulerId!.split(":")[0]));
    assert.equal(alive(victim), false, "the cancelled job's processes are gone");
    assert.equal(alive(newest), true, "the other job runs on");

    // The result of the finished job, the log of the running one, and why there is no dashboard.
    const term = new Terminal(cwd, ["jobs"]);
    t.after(() => term.close());
    await term.waitFor(new RegExp(`> ${newest} `));
    term.press("j", "j");
    await term.waitFor(/> \S+ +local +work\.py:quick +COMPLETED/);
    term.press("r");
    await term.waitFor(/"answer": 42[\s\S]*press any key to return/);
    term.press("x", "o");
    await term.waitFor(/outputs of job \S+: \S+\.slurmray\/jobs\/\S+\/outputs/);
    term.press("k", "k");
    await term.waitFor(new RegExp(`> ${newest} `));
    term.press("l");
    await term.waitFor(new RegExp(`log of job ${newest}[\\s\\S]*started`));
    term.press("q");
    await term.waitFor(/stopped following; the job goes on/);
    term.press("x", "d");
    await term.waitFor(/runs without Ray, so it has no Ray dashboard/);
    term.press("q");
    await term.waitFor(/EXITED 0/);
  });

  it("on the Slurm bed: the job cancelled in the view is gone from squeue", async (t) => {
    const project = bedProject(t, { "work.py": WORK });
    if (!project) return;
    const { tb, cwd } = project;
    const [newest, victim] = await twoSlowJobs(cwd);
    t.after(() => runCli(["cancel", newest], { cwd }));
    const queued = () => spawnSync("ssh", [...sshArgs(tb), "squeue -h -o %i"], { encoding: "utf8" }).stdout.split("\n");
    const victimId = findJob(cwd, victim).schedulerId!;
    assert.ok(queued().includes(victimId), "the job is in squeue before");
    await cancelThroughView(t, cwd, newest, victim, "n\\d+");
    assert.ok(!queued().includes(victimId), "the job is gone from squeue");
    assert.ok(queued().includes(findJob(cwd, newest).schedulerId!), "the other job still runs");
  });
});
