// slurmray doctor: one line per check, ✓ or ✗ with the fix. The remote checks run as ONE remote script
// (remote/doctor.sh) whose output is a list of `key=value` lines, parsed here.
import { readFileSync } from "node:fs";
import type { TargetConfig } from "../config/schema.js";
import { remoteFile } from "../remote/index.js";
import type { Transport } from "../transport/types.js";
import { SlurmrayError } from "../util/errors.js";

export interface Check {
  ok: boolean;
  name: string;
  detail: string;
  /** What to do when it failed. */
  fix?: string;
}

function parseFacts(stdout: string): Map<string, string> {
  const facts = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) facts.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return facts;
}

const MIN_FREE_GB = 5;

/** Checks after the connection was made (which itself covers reachable, host key, authenticated). */
export function remoteChecks(target: TargetConfig, pythonWanted: string, stdout: string): Check[] {
  const facts = parseFacts(stdout);
  const checks: Check[] = [];
  const pythons = (facts.get("pythons") ?? "").split(/\s+/).filter(Boolean);
  checks.push({
    ok: Boolean(facts.get("python_wanted")),
    name: "remote Python",
    detail: pythons.length ? `found ${pythons.map((v) => `python${v}`).join(", ")}; the project uses ${pythonWanted}` : "no python3.X found on PATH",
    fix: `make python${pythonWanted} available on the target (for example modules = ["python/${pythonWanted}"]), or set allow_python_install = true to let uv install it`,
  });
  checks.push({
    ok: Boolean(facts.get("uv")),
    name: "uv",
    detail: facts.get("uv") || "not found (pip is used instead, slower)",
    fix: "install uv on the target for faster installs (https://docs.astral.sh/uv/), or set install_uv = true",
  });
  if (target.kind === "slurm") {
    const missing = ["sbatch", "squeue", "sacct", "scancel", "sinfo"].filter((c) => facts.get(`slurm_${c}`) !== "yes");
    checks.push({
      ok: missing.length === 0,
      name: "Slurm commands",
      detail: missing.length ? `missing: ${missing.join(", ")}` : "sbatch, squeue, sacct, scancel, sinfo",
      fix: "load Slurm in your login shell on the target (modules = [...] in slurmray.toml) or check the host is a login node",
    });
    const partitions = (facts.get("partitions") ?? "").split(/\s+/).filter(Boolean);
    const wanted = target.partition;
    const names = partitions.map((p) => p.replace(/\*$/, ""));
    checks.push({
      ok: partitions.length > 0 && (!wanted || names.includes(wanted)),
      name: "partitions",
      detail: partitions.length ? `${partitions.join(", ")}${wanted ? ` (configured: ${wanted})` : ""}` : "none visible",
      fix: wanted ? `set partition to one of: ${names.join(", ")}` : "ask the cluster admins which partition to use",
    });
  }
  checks.push({
    ok: facts.get("base_writable") === "yes",
    name: "base dir writable",
    detail: facts.get("base") ?? "",
    fix: "set base_dir in slurmray.toml to a folder you can write to",
  });
  const freeGb = Number(facts.get("free_kb") ?? "0") / 1024 / 1024;
  checks.push({
    ok: freeGb >= MIN_FREE_GB,
    name: "free disk",
    detail: `${freeGb.toFixed(1)} GB free in ${facts.get("base") ?? "?"}`,
    fix: `free at least ${MIN_FREE_GB} GB there (slurmray clean removes old job folders), or set base_dir elsewhere`,
  });
  return checks;
}

/** Connects and runs the probe. A connection failure becomes the failed check it is, not an exception. */
export async function diagnose(target: TargetConfig, transport: Transport, baseDir: string, pythonWanted: string): Promise<Check[]> {
  try {
    await transport.connect();
  } catch (error) {
    if (!(error instanceof SlurmrayError)) throw error;
    return [{ ok: false, name: "connection", detail: transport.description, fix: error.message }];
  }
  const checks: Check[] = [{ ok: true, name: "connection", detail: `${transport.description}: reachable, host key known, authenticated` }];
  const probe = await transport.script(readFileSync(remoteFile("doctor.sh"), "utf8"), [baseDir, pythonWanted]);
  return [...checks, ...remoteChecks(target, pythonWanted, probe.stdout)];
}
