// Slurm integration tests on the test bed: an OpenSSH transport as the bed's user, a scratch base dir in
// the user's home (shared by the login "node" and n1..n3), the runtime files shipped there, a small project.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { SlurmBackend } from "../../../src/backends/slurm/index.js";
import { RUNTIME_FILES } from "../../../src/backends/runtime.js";
import type { JobRecord, JobSpec } from "../../../src/model/job.js";
import { argsFromValues } from "../../../src/model/job-args.js";
import { remoteFile } from "../../../src/remote/index.js";
import type { OpenSshTransport } from "../../../src/transport/openssh.js";
import { quote } from "../../../src/util/shell.js";
import { bedTransport, type TestBed } from "../../helpers/testbed.js";

export const PROJECT_FILES: Record<string, string> = {
  "funcs.py": `import os
import time


def add(a, b):
    return a + b


def boom():
    raise ValueError("boom from the job")


def sleepy(seconds):
    time.sleep(seconds)
    return "woke"


def count(n, delay):
    for i in range(n):
        print("line %d" % i, flush=True)
        time.sleep(delay)
    return n


def pool_where(_):
    time.sleep(0.5)
    return os.environ.get("SLURMD_NODENAME")


def connects_without(address, env_changes):
    """Whether a fresh driver reaches the job's Ray at address with these environment changes."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env.update(env_changes)
    probe = "import ray; ray.init(address=%r, logging_level='ERROR'); print(len(ray.nodes()))" % address
    try:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=45)
    except subprocess.TimeoutExpired:
        return {"connected": False, "why": "timed out"}
    return {"connected": done.returncode == 0, "why": done.stderr.strip().splitlines()[-1:] }


def ray_as_researchers_write_it(tasks):
    import stat
    from multiprocessing import Pool  # Ray's Pool under pool = "ray"

    import ray

    ray.init(address="auto")

    # Each task holds its CPU until all of them run at once, so with one CPU per node they must be on
    # as many nodes as there are tasks (spreading alone is best effort: two nodes may serve them all).
    @ray.remote(num_cpus=0)
    class Gate:
        def __init__(self):
            self.arrived = 0

        def arrive(self):
            self.arrived += 1

        def count(self):
            return self.arrived

    @ray.remote(num_cpus=1)
    def where(gate):
        ray.get(gate.arrive.remote())
        deadline = time.time() + 120
        while ray.get(gate.count.remote()) < tasks and time.time() < deadline:
            time.sleep(0.05)
        return os.environ.get("SLURMD_NODENAME")

    gate = Gate.remote()
    nodes = sorted(set(ray.get([where.remote(gate) for _ in range(tasks)])))
    resources = ray.cluster_resources()
    pool_nodes = sorted(set(Pool().map(pool_where, range(8 * tasks))))
    address = os.environ["RAY_ADDRESS"]
    token = os.environ.get("RAY_AUTH_TOKEN_PATH")
    return {
        "nodes": nodes,
        "pool_nodes": pool_nodes,
        "cpus": resources.get("CPU"),
        "memory": resources.get("memory"),
        "auth_mode": os.environ.get("RAY_AUTH_MODE"),
        "token_mode": oct(stat.S_IMODE(os.stat(token).st_mode)) if token else None,
        "without_token": connects_without(address, {}),
        "wrong_token": connects_without(address, {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "0" * 64}),
        "with_token": connects_without(address, {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": token or ""}),
    }
`,
};

export interface SlurmBed {
  transport: OpenSshTransport;
  backend: SlurmBackend;
  /** Scratch base dir on the bed (absolute). */
  base: string;
  codeDir: string;
  runtimeDir: string;
  /** A record of the job `name`; its args are given as values (argsFromValues writes their text). */
  job(name: string, spec?: Omit<Partial<JobSpec>, "args"> & { args?: Record<string, unknown> }, python?: string): JobRecord;
  /** Removes the scratch dir and closes the connection. */
  dispose(): Promise<void>;
}

function writeFiles(dir: string, files: Record<string, string>): string {
  return Object.entries(files)
    .map(([name, text]) => `printf '%s' ${quote(text)} > ${quote(`${dir}/${name}`)}`)
    .join("\n");
}

/** Connects to the bed and prepares a scratch base dir with the runtime files and the test project. */
export async function slurmBed(tb: TestBed, user: string = tb.user): Promise<SlurmBed> {
  const transport = bedTransport(tb, "/tmp/srs-", user);
  await transport.connect();
  const home = (await transport.exec(["sh", "-c", 'echo "$HOME"'])).stdout.trim();
  const base = `${home}/.srit/${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const runtimeDir = `${base}/runtime`;
  const codeDir = `${base}/code`;
  const runtime = Object.fromEntries(RUNTIME_FILES.map((name) => [name, readFileSync(remoteFile(name), "utf8")]));
  const setup = await transport.script(
    [`mkdir -p ${quote(runtimeDir)} ${quote(codeDir)} ${quote(`${base}/jobs`)}`, writeFiles(runtimeDir, runtime), writeFiles(codeDir, PROJECT_FILES)].join("\n"),
  );
  if (setup.code !== 0) throw new Error(`preparing ${base} failed: ${setup.stderr}`);
  const backend = new SlurmBackend(transport, { target: { partition: "debug" }, runtimeDir });
  let count = 0;
  return {
    transport,
    backend,
    base,
    codeDir,
    runtimeDir,
    job(name, spec = {}, python = "/usr/bin/python3") {
      const id = `20261124-000000-${(count++).toString(16).padStart(6, "0")}`;
      return {
        id,
        target: "tb",
        kind: "slurm",
        project: name,
        spec: { entry: "funcs.py:add", scriptArgs: [], env: {}, ray: false, resources: { nodes: 1, cpus: 1, mem: 0.25, gpus: 0, time: 5, partition: null }, ...spec, args: argsFromValues(spec.args ?? {}) },
        state: "SUBMITTING",
        schedulerId: null,
        remoteDir: `${base}/jobs/${id}`,
        codeDir,
        python,
        createdAt: new Date().toISOString(),
        startedAt: null,
        endedAt: null,
        reason: null,
        exitCode: null,
      };
    },
    async dispose() {
      // The scratch dir, then its parent .srit when no other test's dir is left in it.
      await transport.exec(["sh", "-c", 'rm -rf "$1"; rmdir "$(dirname "$1")" 2>/dev/null; true', "sh", base]).catch(() => {});
      await transport.shutdown();
    },
  };
}

/** Submits and returns the record with its Slurm id, as the job pipeline would keep it. */
export async function submitted(bed: SlurmBed, job: JobRecord): Promise<JobRecord> {
  const schedulerId = await bed.backend.submit(job);
  return { ...job, schedulerId, state: "PENDING" };
}

const RAY_VENV = "$HOME/.cache/slurmray-test-ray-venv";

/** The venv's python, installing Ray into it first when the cache is empty (about 280 MB, once). */
export async function rayPython(bed: SlurmBed): Promise<string> {
  const install = await bed.transport.script(
    [
      "set -e",
      `d=${RAY_VENV}`,
      'if [ ! -f "$d/.complete" ]; then',
      '  rm -rf "$d"; mkdir -p "$(dirname "$d")"',
      '  uv venv -q --python /usr/bin/python3 "$d"',
      '  SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt VIRTUAL_ENV="$d" uv pip install -q "ray==2.*"',
      '  touch "$d/.complete"',
      "fi",
      'echo "$d/bin/python"',
    ].join("\n"),
    [],
    { timeoutMs: 900_000 },
  );
  assert.equal(install.code, 0, `installing Ray: ${install.stderr}`);
  return install.stdout.trim();
}
