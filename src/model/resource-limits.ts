// The bounds of a job's resources, one table for every way they are given: slurmray.toml's defaults, the
// CLI's flags, the API's options and the Slurm parameters. A value past them is refused before anything is sent.

/** Whole-number resources: the least and the most a job may ask for. */
export const WHOLE_LIMITS = {
  nodes: { min: 1, max: 1024 },
  cpus: { min: 1, max: 4096 },
  gpus: { min: 0, max: 64 },
  time: { min: 1, max: 525600 },
} as const;

/** Memory per node, in GB: above 0 and at most this. */
export const MEM_MAX_GB = 65536;

/** One partition name (Slurm takes a comma-separated list of them in #SBATCH lines). */
export const PARTITION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const PARTITION_RULE = "a partition name (letters, digits, '.', '_', '-')";

/** "nodes (1-1024), cpus (1-4096), mem (GB, up to 65536), …", for messages that list every resource. */
export function describeResourceLimits(): string {
  const { nodes, cpus, gpus, time } = WHOLE_LIMITS;
  return `nodes (${nodes.min}-${nodes.max}), cpus (${cpus.min}-${cpus.max}), mem (GB, up to ${MEM_MAX_GB}), gpus (${gpus.min}-${gpus.max}), time (minutes, ${time.min}-${time.max}), partition`;
}
