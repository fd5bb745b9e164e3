// The slurm kind's part of `slurmray doctor`: the Slurm commands on the login shell's PATH, accounting, and
// the partitions (the configured one among them).
import type { SlurmTargetConfig, TargetConfig } from "../../config/schema.js";
import { type Check, checkStatus, type KindDoctor } from "../doctor.js";

const REQUIRED = ["sbatch", "squeue", "scancel", "sinfo"];

const PROBE = `for c in sbatch squeue sacct scancel sinfo; do
  if command -v "$c" >/dev/null 2>&1; then echo "slurm_$c=yes"; else echo "slurm_$c=no"; fi
done
if command -v sinfo >/dev/null 2>&1; then echo "partitions=$(sinfo -h -o '%P' 2>/dev/null | tr '\\n' ' ')"; fi`;

function checks(target: TargetConfig, facts: ReadonlyMap<string, string>): Check[] {
  const has = (command: string): boolean => facts.get(`slurm_${command}`) === "yes";
  const missing = REQUIRED.filter((command) => !has(command));
  const partitions = (facts.get("partitions") ?? "").split(/\s+/).filter(Boolean);
  const wanted = (target as SlurmTargetConfig).partition;
  const names = partitions.map((p) => p.replace(/\*$/, ""));
  return [
    {
      name: "Slurm commands",
      status: checkStatus(missing.length === 0),
      detail: missing.length ? `missing: ${missing.join(", ")}` : REQUIRED.join(", "),
      fix: "load Slurm in your login shell on the target (modules = [...] in slurmray.toml) or check the host is a login node",
    },
    has("sacct")
      ? { name: "sacct", status: "ok", detail: "job accounting available" }
      : {
          name: "sacct",
          status: "warn",
          detail: "not found (optional: a finished job's state and its CPU and memory figures come from squeue alone)",
          fix: "ask the cluster admins whether Slurm accounting (slurmdbd) is available, and load it in your login shell",
        },
    {
      name: "partitions",
      status: checkStatus(partitions.length > 0 && (!wanted || names.includes(wanted))),
      detail: partitions.length ? `${partitions.join(", ")}${wanted ? ` (configured: ${wanted})` : ""}` : "none visible",
      fix: wanted ? `set partition to one of: ${names.join(", ")}` : "ask the cluster admins which partition to use",
    },
  ];
}

export const slurmDoctor: KindDoctor = { probe: () => PROBE, checks };
