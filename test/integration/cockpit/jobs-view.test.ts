// The live `slurmray jobs` view, driven through a real pseudo-terminal (tmux, on a server of this test's own):
// select a job, cancel it, confirm, and the job is gone — its process group locally, from squeue on the bed.
// The view and `jobs --watch` are driven by the connection's one watcher on the bed (by this process's own checks
// locally): a job's end shows within about a second, and a view open for ~10 s costs a handful of remote commands
// on the bed and none locally (counted with --verbose).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { processGroupAlive } from "../../../src/backends/local/process-group.js";
import { findJob } from "../../../src/jobs/registry.js";
import { runCli, startCli } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";
import { sshArgs } from "../../helpers/testbed.js";
import { bedProject, venvProject } from "./project.js";
import { hasTmux, Terminal } from "./terminal.js";

const WORK =
  "import os, time\n\ndef slow(seconds=300):\n    print('started', flush=True)\n    time.sleep(seconds)\n    return 'done'\n\ndef quick():\n    return {'answer': 42}\n\n" +
  "def gated(path):\n    while not os.path.exists(path):\n        time.sleep(0.05)\n    return 'opened'\n";
/** How soon a job's end must show: well under the details' 15 s and the Slurm poll's 3 s, so the watcher's status.json read drives it. */
const END_SHOWN_MS = 1500;
/**
 * Remote commands the view may cost on the bed in ~10 s here (polling every 2 s cost about 10): the watcher, the
 * scheduler's listing at the start, and one after each start or end it sees (A's and B's starts, A's end; ends
 * and starts seen in the same second share one).
 */
const COMMANDS_MAX = 5;


async function detached(cwd: string, entry: string, args: string[] = []): Promise<string> {
  const r = await runCli(["run", entry, "--detach", ...args], { cwd, timeoutMs: 120_000 });
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
  await sleep(1500); // as a user would think it over: the view re-reads the records meanwhile (once a second)
  term.press("y");
  const screen = await term.waitFor(new RegExp(`job ${victim} cancelled`), 60);
  assert.match(screen, new RegExp(`> ${victim} .*CANCELLED`));
  assert.match(screen, new RegExp(`  ${newest} .*RUNNING`), "the other job is untouched");
  term.press("q");
  await term.waitFor(/EXITED 0/);
}

/** Lines --verbose wrote for remote commands. */
function commandLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.includes("  $ "));
}

/**
 * Job A runs while the view is open; job B is submitted from another process meanwhile and appears. A's end
 * (its gate opened) shows within END_SHOWN_MS, and the ~10 s of viewing cost at most `maxCommands` commands.
 * Then `jobs --watch` follows B the same way and stops by itself once B has ended. `gate`: a gate file's path on
 * the target; `openGate` creates it there.
 */
async function watchedEnds(t: TestContext, cwd: string, gate: (name: string) => string, openGate: (name: string) => void, maxCommands: number): Promise<void> {
  const gated = (name: string) => detached(cwd, "work.py:gated", ["--args", JSON.stringify({ path: gate(name) })]);
  const a = await gated("a");
  t.after(() => runCli(["cancel", a], { cwd }));
  const logs = scratchDir("srview-log-");
  t.after(() => rmSync(logs, { recursive: true, force: true }));
  const term = new Terminal(cwd, ["--verbose", "jobs", `2>${join(logs, "view")}`]);
  t.after(() => term.close());
  const opened = performance.now();
  await term.waitFor(new RegExp(`> ${a} .*RUNNING`), 60);
  const b = await gated("b");
  t.after(() => runCli(["cancel", b], { cwd }));
  await term.waitFor(new RegExp(`${b} .*RUNNING`), 60);
  openGate("a");
  const gateOpened = performance.now();
  await term.waitFor(new RegExp(`${a} .*COMPLETED`), 10);
  const shownMs = performance.now() - gateOpened;
  console.log(`view: job end shown ${Math.round(shownMs)} ms after its gate opened`);
  assert.ok(shownMs < END_SHOWN_MS, `the end showed ${Math.round(shownMs)} ms after the gate opened`);
  await sleep(Math.max(0, 10_000 - (performance.now() - opened)));
  assert.match(term.screen(), new RegExp(`${b} .*RUNNING`), "B is still followed");
  term.press("q");
  await term.waitFor(/EXITED 0/);
  const viewCommands = commandLines(readFileSync(join(logs, "view"), "utf8"));
  console.log(`view: ${viewCommands.length} remote command(s) in ${Math.round((performance.now() - opened) / 1000)} s:\n${viewCommands.join("\n")}`);
  assert.ok(viewCommands.length <= maxCommands, viewCommands.join("\n"));

  const watch = startCli(["--verbose", "jobs", "--watch"], { cwd, timeoutMs: 60_000 });
  let printed = "";
  watch.child.stdout!.on("data", (text: string) => (printed += text));
  for (let i = 0; !new RegExp(`${b} .*RUNNING`).test(printed); i++) {
    assert.ok(i < 300, `jobs --watch never showed B running:\n${printed}`);
    await sleep(100);
  }
  openGate("b");
  const bOpened = performance.now();
  const done = await watch.done;
  const endedMs = performance.now() - bOpened;
  console.log(`jobs --watch: ended ${Math.round(endedMs)} ms after the gate opened`);
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout.split(/\n(?=JOB )/).at(-1)!, new RegExp(`${b} .*COMPLETED`), "the last table shows B's end");
  assert.ok(endedMs < END_SHOWN_MS, `jobs --watch showed the end ${Math.round(endedMs)} ms after the gate opened`);
  const watchCommands = commandLines(done.stderr);
  console.log(`jobs --watch: ${watchCommands.length} remote command(s):\n${watchCommands.join("\n")}`);
  assert.ok(watchCommands.length <= maxCommands, done.stderr);
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

  it("on the local target: the view and --watch show an end within ~1 s, with no command (local jobs are checked in process)", async (t) => {
    const cwd = venvProject({ "work.py": WORK, "slurmray.toml": '[project]\nname = "view"\ndefault_target = "local"\n' });
    await watchedEnds(t, cwd, (gate) => join(cwd, gate), (gate) => writeFileSync(join(cwd, gate), ""), 0);
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

  it("on the Slurm bed: the watcher drives the view and --watch (an end shows within ~1 s, a few commands)", async (t) => {
    const project = bedProject(t, { "work.py": WORK });
    if (!project) return;
    const { tb, cwd, base } = project;
    const open = (gate: string) => {
      const r = spawnSync("ssh", [...sshArgs(tb), `touch ${base}/${gate}`]);
      assert.equal(r.status, 0, String(r.stderr));
    };
    await watchedEnds(t, cwd, (gate) => `${base}/${gate}`, open, COMMANDS_MAX);
  });
});
