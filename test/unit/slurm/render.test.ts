import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { type RenderInput, renderSbatch } from "../../../src/backends/slurm/render.js";
import { InputError } from "../../../src/util/errors.js";
import { slurmJob } from "./job.js";

const FIXTURES = new URL("../../fixtures/slurm/", import.meta.url);
const RUNTIME = "/home/alice/.slurmray/runtime/0123456789abcdef";

function input(overrides: Partial<RenderInput> = {}): RenderInput {
  const job = slurmJob();
  return { job, target: {}, runtimeDir: RUNTIME, python: job.python, ...overrides };
}

/** Compares with the golden file; UPDATE_GOLDEN=1 rewrites it (then review the diff). */
function golden(name: string, script: string): void {
  const file = new URL(name, FIXTURES);
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, script);
  assert.equal(script, readFileSync(file, "utf8"));
  const syntax = spawnSync("bash", ["-n"], { input: script });
  assert.equal(syntax.status, 0, `bash -n: ${syntax.stderr}`);
}

test("minimal job: header from resources, runner exec'd", () => {
  const script = renderSbatch(input());
  golden("minimal.sh", script);
  assert.match(script, /^#SBATCH --nodes=1$/m);
  assert.match(script, /^#SBATCH --mem=1G$/m);
  assert.doesNotMatch(script, /--partition|--gres|srun/);
});

test("full options: partition, account, qos, constraint, gpus, fractional memory, extra lines, env", () => {
  const job = slurmJob(
    {},
    {
      env: { WANDB_MODE: "offline", QUOTED: "it's $HOME" },
      resources: { nodes: 2, cpus: 8, mem: 1.5, gpus: 2, time: 90, partition: "gpu" },
    },
  );
  const target = { partition: "cpu", account: "proj-42", qos: "high", constraint: "a100&ib", extraSbatch: ["--exclusive", "#SBATCH --mail-type=END"] };
  const script = renderSbatch(input({ job, target }));
  golden("full.sh", script);
  assert.match(script, /^#SBATCH --partition=gpu$/m, "the job's partition wins over the target's");
  assert.match(script, /^#SBATCH --mem=1536M$/m);
  assert.match(script, /^#SBATCH --gres=gpu:2$/m);
  assert.match(script, /^#SBATCH --mail-type=END$/m);
  assert.match(script, /^export QUOTED='it'\\''s \$HOME'$/m);
});

test("ray on several nodes: head here, one srun step per other node, readiness, own teardown", () => {
  const job = slurmJob({}, { ray: true, env: { SLURMRAY_RAY_OBJECT_STORE_MB: "80" }, resources: { nodes: 3, cpus: 2, mem: 2, gpus: 0, time: 10, partition: "debug" } });
  const script = renderSbatch(input({ job }));
  golden("ray-multinode.sh", script);
  assert.match(script, /srun --nodes=1 --ntasks=1 -w "\$\{nodes\[i\]\}" --overlap/);
  assert.match(script, /RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S=0/);
  assert.match(script, /ray_cluster" ready "\$job_dir"/);
  assert.doesNotMatch(script, /ray stop/);
});

test("modules and setup lines come before the runner, modules quoted", () => {
  const target = { modules: ["gcc/12", "python/3.11 cuda"], setup: ["export OMP_NUM_THREADS=1", "source /opt/site/env.sh"] };
  const script = renderSbatch(input({ target }));
  golden("modules-setup.sh", script);
  assert.match(script, /^module load 'python\/3.11 cuda' \|\| exit 1$/m);
  assert.ok(script.indexOf("source /opt/site/env.sh") < script.indexOf("runner.py"));
});

test("refuses values that cannot be put in a Slurm script", () => {
  const bad: [string, RenderInput][] = [
    ["job dir", input({ job: slurmJob({ remoteDir: "/home/a b/jobs/x" }) })],
    ["environment variable", input({ job: slurmJob({}, { env: { "BAD-NAME": "1" } }) })],
    ["sbatch option", input({ target: { extraSbatch: ["--a\n--b"] } })],
    ["sbatch option", input({ target: { extraSbatch: ["exclusive"] } })],
    ["partition", input({ target: { partition: "cpu;rm -rf ~" } })],
    ["setup line", input({ target: { setup: ["a\nb"] } })],
  ];
  for (const [what, given] of bad) {
    assert.throws(() => renderSbatch(given), (e: unknown) => e instanceof InputError && e.message.includes(what), what);
  }
});
