// Each kind's part of doctor, reached through the registry as doctor/ reaches it: its probe lines run by a
// real sh on this machine, and its checks placed between the package index and the base dir.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { kindInfo } from "../../../src/backends/registry.js";
import type { RemoteTargetConfig } from "../../../src/config/target.js";
import { remoteChecks } from "../../../src/doctor/checks.js";
import { scratchDir } from "../../helpers/scratch.js";

const scratch = scratchDir("sr-doctor-kinds-");
after(() => rmSync(scratch, { recursive: true, force: true }));

const COMMON = ["python_wanted=/usr/bin/python3.11", "uv=/usr/bin/uv", "index_status=ok", "base_writable=yes", `free_kb=${50 * 1024 * 1024}`];

function probeOutput(target: RemoteTargetConfig, path = process.env["PATH"] ?? ""): string {
  const probe = kindInfo(target.kind).doctor!.probe(target);
  return execFileSync("/bin/sh", ["-c", probe], { encoding: "utf8", env: { PATH: path } });
}

const diagnosed = (target: RemoteTargetConfig, facts: string) => remoteChecks(target, "3.11", [...COMMON, facts].join("\n"));

test("slurm: its probe finds the commands and partitions on PATH; a missing sbatch fails, a missing sacct warns", () => {
  const bin = join(scratch, "slurm-bin");
  mkdirSync(bin);
  for (const command of ["sbatch", "squeue", "scancel"]) writeFileSync(join(bin, command), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(bin, "sinfo"), "#!/bin/sh\nprintf 'debug*\\nshort\\n'\n", { mode: 0o755 });
  symlinkSync(execFileSync("/bin/sh", ["-c", "command -v tr"], { encoding: "utf8" }).trim(), join(bin, "tr"));
  const target = { kind: "slurm", host: "h", partition: "short" } as RemoteTargetConfig;
  const facts = probeOutput(target, bin);
  assert.match(facts, /^slurm_sbatch=yes$/m);
  assert.match(facts, /^slurm_sacct=no$/m);
  const checks = diagnosed(target, facts);
  assert.deepEqual(
    checks.map((c) => `${c.name} ${c.status}`),
    ["remote Python ok", "uv ok", "package index ok", "Slurm commands ok", "sacct warn", "partitions ok", "base dir writable ok", "free disk ok"],
  );
  assert.equal(checks.find((c) => c.name === "partitions")!.detail, "debug*, short (configured: short)");
  const noSbatch = diagnosed(target, facts.replace("slurm_sbatch=yes", "slurm_sbatch=no")).find((c) => c.name === "Slurm commands")!;
  assert.deepEqual([noSbatch.status, noSbatch.detail], ["fail", "missing: sbatch"]);
});

test("server: the queue dir must be root's and 1777; its probe reads the dir and refuses a missing one or a symlink", () => {
  const dir = join(scratch, "queue dir 'q'");
  mkdirSync(dir);
  chmodSync(dir, 0o1777);
  const server = (queueDir: string) => ({ kind: "server", host: "h", queue_dir: queueDir }) as RemoteTargetConfig;
  assert.equal(probeOutput(server(dir)).trim(), `queue_dir=${userInfo().uid} 1777`);
  assert.equal(probeOutput(server(join(scratch, "absent"))).trim(), "queue_dir=missing");
  symlinkSync(dir, join(scratch, "link"));
  assert.equal(probeOutput(server(join(scratch, "link"))).trim(), "queue_dir=missing");

  const names = diagnosed(server("/q"), "queue_dir=0 1777").map((c) => `${c.name} ${c.status}`);
  assert.deepEqual(names, ["remote Python ok", "uv ok", "package index ok", "queue dir ok", "base dir writable ok", "free disk ok"]);
  const users = diagnosed(server("/q"), "queue_dir=1000 1777").find((c) => c.name === "queue dir")!;
  assert.equal(users.status, "fail");
  assert.equal(users.fix, "ask an admin of the server to run once: sudo install -d -m 1777 -o root -g root /q");
  const missing = diagnosed({ kind: "server", host: "h" } as RemoteTargetConfig, "queue_dir=missing").find((c) => c.name === "queue dir")!;
  assert.deepEqual([missing.status, missing.detail], ["fail", "/tmp/slurmray-queue does not exist"]);
});

test("the local kind adds nothing to doctor (it has no remote side)", () => {
  assert.equal(kindInfo("local").doctor, undefined);
});
