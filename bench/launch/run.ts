// Benchmark: a warm `slurmray run` (nothing changed, Ray off) of a trivial function, total wall time as the
// user sees it (the CLI process included), against a hand-written baseline measured in the same run: one
// multiplexed `ssh host 'sbatch --wait …'` plus reading the output. Medians of a few rounds.
// Run: npx tsx bench/launch/run.ts   (needs `npm run build` and `bash scripts/test-cluster.sh up`)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { CLI, tempProject } from "../../test/helpers/cli.js";
import { sshBaseArgs, testbed } from "../../test/helpers/testbed.js";
import { testbedToml } from "../../test/helpers/testbed-project.js";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
const bed = testbed();
if (!bed) {
  console.error("test bed not running: bash scripts/test-cluster.sh up");
  process.exit(2);
}

const cwd = tempProject({ "slurmray.toml": testbedToml(bed), "trivial.py": "def f(x=1):\n    return x + 1\n" });
execFileSync("python3", ["-m", "venv", "--without-pip", join(cwd, ".venv")]);

function slurmray(): { ms: number; commands: number } {
  const start = performance.now();
  const r = spawnSync(process.execPath, [CLI, "run", "trivial.py:f", "--args", '{"x": 41}', "--json"], { cwd, encoding: "utf8" });
  const ms = performance.now() - start;
  const report = JSON.parse(r.stdout);
  if (r.status !== 0 || report.result !== 42) throw new Error(`slurmray run failed: ${r.stderr}`);
  return { ms, commands: report.remote_commands };
}

// The baseline: what a careful user types by hand, over a ControlMaster connection kept open.
const control = join(mkdtempSync("/tmp/srl-"), "cm");
const ssh = [...sshBaseArgs(bed), "-i", bed.key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", `ControlPath=${control}`];
execFileSync("ssh", [...ssh, "-o", "ControlMaster=yes", "-o", "ControlPersist=120", "-fN", `${bed.user}@${bed.host}`]);
const job = `d=$(mktemp -d) && cd "$d" && sbatch --wait --parsable -p debug -o out.txt --wrap 'python3 -c "print(41 + 1)"' >/dev/null && cat out.txt`;
function baseline(): number {
  const start = performance.now();
  const out = execFileSync("ssh", [...ssh, "-o", "ControlMaster=no", `${bed!.user}@${bed!.host}`, job], { encoding: "utf8" });
  const ms = performance.now() - start;
  if (out.trim() !== "42") throw new Error(`baseline printed ${out}`);
  return ms;
}

slurmray(); // the cold run: creates the env and ships the code; not measured
const ours: number[] = [];
const base: number[] = [];
let commands = 0;
for (let round = 0; round < ROUNDS; round++) {
  const run = slurmray();
  ours.push(run.ms);
  commands = Math.max(commands, run.commands);
  base.push(baseline());
}
execFileSync("ssh", [...ssh, "-O", "exit", `${bed.user}@${bed.host}`], { stdio: "ignore" });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = median(ours);
const b = median(base);
console.log(`warm slurmray run (trivial function, Ray off), median of ${ROUNDS}: ${m.toFixed(0)} ms, ${commands} remote commands`);
console.log(`baseline ssh 'sbatch --wait' + read output, median of ${ROUNDS}: ${b.toFixed(0)} ms`);
console.log(`ratio slurmray / baseline: ${(m / b).toFixed(2)}x (goal <= 1.5x, <= 4 remote commands)`);
