// Benchmark: how long the CLI takes to start and answer, for commands that do no remote work: `--version`,
// `status` and `jobs` in a project with a slurmray.toml and a few finished jobs, against `node -e 0` measured
// in the same run (interleaved, so machine load hits all alike). Medians of ROUNDS runs each.
// Run: npm run build && npx tsx bench/startup/run.ts   (BENCH_ROUNDS=N to change the rounds, default 15)
import { execFileSync, spawnSync } from "node:child_process";
import { CLI, tempProject } from "../../test/helpers/cli.js";

// BENCH_COMPARE=path/to/dist/cli/main.js also measures another build (e.g. the main branch's), interleaved.
const other = process.env["BENCH_COMPARE"];
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 15);
const cwd = tempProject({
  "slurmray.toml": '[project]\nname = "bench"\n\n[targets.cluster]\nkind = "slurm"\nhost = "login.example"\npartition = "cpu"\n',
  "job.py": "def f():\n    return 1\n",
});
// Three finished jobs in the registry, made by the CLI itself on the local target.
for (let i = 0; i < 3; i++) execFileSync(process.execPath, [CLI, "run", "job.py:f", "--target", "local"], { cwd, stdio: "ignore" });

const commands = (cli: string, label: string): Record<string, string[]> => ({
  [`${label} --version`]: [cli, "--version"],
  [`${label} status`]: [cli, "status"],
  [`${label} jobs`]: [cli, "jobs"],
});
const cases: Record<string, string[]> = { "node -e 0": ["-e", "0"], ...commands(CLI, "slurmray"), ...(other ? commands(other, "compared") : {}) };

const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, args] of Object.entries(cases)) {
    const start = performance.now();
    const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
    samples.get(name)!.push(ms);
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const base = median(samples.get("node -e 0")!);
console.log(`startup, median of ${ROUNDS} runs (node ${process.version})${other ? `; compared: ${other}` : ""}`);
for (const [name, values] of samples) {
  const m = median(values);
  console.log(`${name.padEnd(22)} ${m.toFixed(0).padStart(5)} ms${name === "node -e 0" ? "" : `   +${(m - base).toFixed(0)} ms over node -e 0`}`);
}
