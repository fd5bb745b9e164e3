// Benchmark: a warm `slurmray run` (nothing changed, Ray off) of a trivial function, total wall time as the
// user sees it (the CLI process included), on the Slurm kind and on the server kind, each against the tightest
// hand-written equivalent measured in the same run over one multiplexed ssh connection:
//   slurm:  `sbatch --parsable`, then `squeue -j` every 50 ms until the job is gone, then read its output;
//   server: `setsid python3 -c … > out 2>&1 &`, then read `out` every 50 ms until the result is there.
// Also the end latency: from the runner writing its final status.json to the CLI's exit (the job record holds
// the runner's ended_at; the bed is one machine, so both clocks are one).
// Run: npx tsx bench/launch/run.ts   (needs `npm run build` and `bash scripts/test-cluster.sh up`)
// BENCH_COMPARE=path/to/dist/cli/main.js also times another build's warm run (e.g. the main branch's) on the
// same project, interleaved round by round, so that a change is measured against the same machine load.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CLI, tempProject } from "../../test/helpers/cli.js";
import { removeRemote, scratchBaseDir, sshBaseArgs, type TestBed, testbed } from "../../test/helpers/testbed.js";
import { serverToml, testbedToml } from "../../test/helpers/testbed-project.js";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 7);
const other = process.env["BENCH_COMPARE"];
const found = testbed();
if (!found) {
  console.error("test bed not running: bash scripts/test-cluster.sh up");
  process.exit(2);
}
const bed: TestBed = found;
const baseDir = scratchBaseDir(bed);

function project(toml: string): string {
  const cwd = tempProject({ "slurmray.toml": toml, "trivial.py": "def f(x=1):\n    return x + 1\n" });
  execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
  return cwd;
}

/** One warm run: wall time, remote commands, and the end latency (CLI exit − runner's ended_at). */
function slurmray(cwd: string, cli = CLI): { ms: number; commands: number; endMs: number } {
  const start = performance.now();
  const r = spawnSync(process.execPath, [cli, "run", "trivial.py:f", "--args", '{"x": 41}', "--json"], { cwd, encoding: "utf8" });
  const exited = Date.now();
  const ms = performance.now() - start;
  const report = JSON.parse(r.stdout);
  if (r.status !== 0 || report.result !== 42) throw new Error(`slurmray run failed: ${r.stderr}`);
  const record = JSON.parse(readFileSync(join(cwd, ".slurmray", "jobs", `${report.job_id}.json`), "utf8")) as { endedAt: string };
  return { ms, commands: report.remote_commands, endMs: exited - Date.parse(record.endedAt) };
}

// The baselines run over a ControlMaster connection kept open, as a careful user's would.
const control = join(mkdtempSync("/tmp/srl-"), "cm");
const ssh = [...sshBaseArgs(bed), "-i", bed.key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", `ControlPath=${control}`];
execFileSync("ssh", [...ssh, "-o", "ControlMaster=yes", "-o", "ControlPersist=300", "-fN", `${bed.user}@${bed.host}`]);
const remote = (command: string) => execFileSync("ssh", [...ssh, "-o", "ControlMaster=no", `${bed.user}@${bed.host}`, command], { encoding: "utf8" });

async function slurmBaseline(): Promise<number> {
  const start = performance.now();
  const submitted = remote(`d=$(mktemp -d) && cd "$d" && id=$(sbatch --parsable -p debug -o out.txt --wrap 'python3 -c "print(41 + 1)"') && echo "$id $d"`);
  const [id, dir] = submitted.trim().split(" ");
  while (remote(`squeue -h -j ${id} -o %i 2>/dev/null`).trim() !== "") await sleep(50);
  const out = remote(`cat ${dir}/out.txt`);
  const ms = performance.now() - start;
  remote(`rm -rf ${dir}`); // after the clock: a careful user's script would leave it to the end too
  if (out.trim() !== "42") throw new Error(`slurm baseline printed ${out}`);
  return ms;
}

async function serverBaseline(): Promise<number> {
  const start = performance.now();
  const dir = remote(`d=$(mktemp -d) || exit 1; (setsid python3 -c 'print(41 + 1)' > "$d/out" 2>&1 < /dev/null &); echo "$d"`).trim();
  let out = "";
  for (;;) {
    out = remote(`cat ${dir}/out`);
    if (out.trim() !== "") break;
    await sleep(50);
  }
  const ms = performance.now() - start;
  remote(`rm -rf ${dir}`);
  if (out.trim() !== "42") throw new Error(`server baseline printed ${out}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(kind: string, cwd: string, baseline: () => Promise<number>, goal: string): Promise<void> {
  slurmray(cwd); // the cold run: creates the env and ships the code; not measured
  if (other) slurmray(cwd, other);
  const ours: number[] = [];
  const ends: number[] = [];
  const base: number[] = [];
  const compared: number[] = [];
  let commands = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const run = slurmray(cwd);
    ours.push(run.ms);
    ends.push(run.endMs);
    commands = Math.max(commands, run.commands);
    base.push(await baseline());
    if (other) compared.push(slurmray(cwd, other).ms);
  }
  const [m, b] = [median(ours), median(base)];
  console.log(`${kind}: warm slurmray run, median of ${ROUNDS}: ${m.toFixed(0)} ms, ${commands} remote commands`);
  console.log(`${kind}: hand-written baseline (50 ms polling), median of ${ROUNDS}: ${b.toFixed(0)} ms`);
  console.log(`${kind}: ratio slurmray / baseline: ${(m / b).toFixed(2)}x (goal ${goal})`);
  if (other) console.log(`${kind}: compared build ${other}, median of ${ROUNDS}: ${median(compared).toFixed(0)} ms`);
  console.log(`${kind}: end latency (runner's final status -> CLI exit), median of ${ROUNDS}: ${median(ends).toFixed(0)} ms (goal <= 200 ms)`);
}

try {
  await measure("slurm", project(testbedToml(bed, { baseDir })), slurmBaseline, "<= 1.5x, <= 4 remote commands");
  await measure("server", project(serverToml(bed, { baseDir, gpus: [] })), serverBaseline, "<= 1.5x, <= 3 remote commands");
} finally {
  execFileSync("ssh", [...ssh, "-O", "exit", `${bed.user}@${bed.host}`], { stdio: "ignore" });
  removeRemote(bed, [baseDir]);
  rmSync(dirname(control), { recursive: true, force: true });
}
