// Benchmark: 100 trivial elements on the test bed, three ways, measured in the same run: time until all results
// are on this machine, and the number of remote commands.
//   map:      `slurmray map trivial.py:f --args-file list.jsonl` (one job array);
//   separate: 100 × `slurmray run --detach`, then `slurmray attach` of each for its result (a user's shell loop);
//   by hand:  `sbatch --array=0-99 --wrap …` over a kept-open ControlMaster, polled with squeue every 50 ms on the
//             login node, then every element's output read: what a careful user writes without slurmray.
// All three ask Slurm for the same resources per element (RESOURCES: 1 CPU, 100 MB, 5 minutes), so the bed's
// nodes hold as many elements at once whoever submits them.
// Run: npx tsx bench/map/run.ts   (needs `npm run build` and the test bed; BENCH_N elements, default 100;
//      BENCH_ROUNDS rounds of the two arrays, default 3)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CLI, tempProject } from "../../test/helpers/cli.js";
import { removeRemote, scratchBaseDir, sshBaseArgs, testbed } from "../../test/helpers/testbed.js";
import { testbedToml } from "../../test/helpers/testbed-project.js";

const N = Number(process.env["BENCH_N"] ?? 100);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const bed = testbed();
if (!bed) {
  console.error("test bed not running: bash scripts/test-cluster.sh up");
  process.exit(2);
}
const base = scratchBaseDir(bed);
const cwd = tempProject({ "slurmray.toml": testbedToml(bed, { baseDir: base }), "trivial.py": "def f(x=1):\n    return x + 1\n" });
execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);
writeFileSync(join(cwd, "list.jsonl"), `${Array.from({ length: N }, (_, x) => JSON.stringify({ x })).join("\n")}\n`);
const RESOURCES = { cpus: 1, memMb: 100, minutes: 5 };
const resourceFlags = ["--cpus", String(RESOURCES.cpus), "--mem", String(RESOURCES.memMb / 1024), "--time", String(RESOURCES.minutes)];
const expected = Array.from({ length: N }, (_, x) => x + 1);

/** Runs the CLI with --verbose; returns stdout and how many remote commands it ran (from the verbose lines). */
function slurmray(args: string[]): { stdout: string; commands: number; code: number | null } {
  const r = spawnSync(process.execPath, [CLI, "--verbose", ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { stdout: r.stdout, commands: r.stderr.match(/\[exit -?\d+, \d+ ms\]/g)?.length ?? 0, code: r.status };
}

function check(what: string, results: unknown[]): void {
  if (JSON.stringify(results) !== JSON.stringify(expected)) throw new Error(`${what} returned ${JSON.stringify(results).slice(0, 300)}`);
}

function median<T extends { ms: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)]!;
}

function timed<T>(run: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = run();
  return { ms: performance.now() - start, value };
}

function viaMap(): number {
  const r = slurmray(["map", "trivial.py:f", "--args-file", "list.jsonl", ...resourceFlags, "--json"]);
  if (r.code !== 0) throw new Error(`map exited ${r.code}`);
  check("map", (JSON.parse(r.stdout) as { elements: { result: unknown }[] }).elements.map((e) => e.result));
  return r.commands;
}

function viaSeparateRuns(): number {
  let commands = 0;
  const ids: string[] = [];
  for (let x = 0; x < N; x++) {
    const r = slurmray(["run", "trivial.py:f", "--args", JSON.stringify({ x }), ...resourceFlags, "--detach"]);
    ids.push(r.stdout.trim());
    commands += r.commands;
  }
  const results = ids.map((id) => {
    const r = slurmray(["attach", id]);
    commands += r.commands;
    return JSON.parse(r.stdout) as unknown;
  });
  check("separate runs", results);
  return commands;
}

// By hand: one multiplexed connection, one command that submits, polls squeue every 50 ms and prints the outputs.
const control = join(mkdtempSync("/tmp/srm-"), "cm");
const ssh = [...sshBaseArgs(bed), "-i", bed.key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", `ControlPath=${control}`];
execFileSync("ssh", [...ssh, "-o", "ControlMaster=yes", "-o", "ControlPersist=300", "-fN", `${bed.user}@${bed.host}`]);
const handWritten = `d=$(mktemp -d) && cd "$d" &&
id=$(sbatch --parsable -p debug --array=0-${N - 1} -c ${RESOURCES.cpus} --mem=${RESOURCES.memMb}M -t ${RESOURCES.minutes} -o '%a.out' --wrap 'python3 -c "import os; print(int(os.environ[\\"SLURM_ARRAY_TASK_ID\\"]) + 1)"') &&
while [ -n "$(squeue -h -r -j "$id" -o %i 2>/dev/null)" ]; do sleep 0.05; done &&
for i in $(seq 0 ${N - 1}); do cat "$i.out"; done; rm -rf "$d"`;
function byHand(): number {
  const out = execFileSync("ssh", [...ssh, "-o", "ControlMaster=no", `${bed!.user}@${bed!.host}`, handWritten], { encoding: "utf8" });
  check("the hand-written array", out.trim().split("\n").map(Number));
  return 1;
}

try {
  // Cold: creates the env and ships the code, for the two slurmray ways alike; not measured.
  slurmray(["run", "trivial.py:f", "--args", '{"x": 0}']);
  // map and the hand-written array alternate ROUNDS times (the bed's scheduling varies by a second from one
  // array to the next); their medians are compared. The separate runs take a minute: once.
  const hands: { ms: number; value: number }[] = [];
  const maps: { ms: number; value: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    hands.push(timed(byHand));
    maps.push(timed(viaMap));
  }
  const [hand, mapped] = [median(hands), median(maps)];
  const separate = timed(viaSeparateRuns);
  const row = (what: string, t: { ms: number; value: number }) => `${what.padEnd(42)} ${(t.ms / 1000).toFixed(2).padStart(7)} s  ${String(t.value).padStart(5)} remote commands`;
  const all = (runs: { ms: number }[]) => runs.map((t) => (t.ms / 1000).toFixed(2)).join(", ");
  console.log(`${N} trivial elements on the test bed, time until all results are here (median of ${ROUNDS} for the arrays):`);
  console.log(row("slurmray map", mapped));
  console.log(row("hand-written sbatch --array, 50 ms poll", hand));
  console.log(row(`${N} × slurmray run --detach + attach`, separate));
  console.log(`  map rounds: ${all(maps)} s; hand-written rounds: ${all(hands)} s`);
  console.log(`map / hand-written: ${(mapped.ms / hand.ms).toFixed(2)}× (goal ≤ 1.3×); separate runs / map: ${(separate.ms / mapped.ms).toFixed(1)}× (goal ≥ 5×)`);
} finally {
  execFileSync("ssh", [...ssh, "-O", "exit", `${bed.user}@${bed.host}`], { stdio: "ignore" });
  removeRemote(bed, [base]);
  rmSync(cwd, { recursive: true, force: true });
  rmSync(dirname(control), { recursive: true, force: true });
}
