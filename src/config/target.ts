// Picks the target (flag > SLURMRAY_TARGET > project.default_target > the embedded local target)
// and resolves the job's resources (flags > target defaults > built-in defaults).
import type { Resources } from "../model/job.js";
import { ConfigError, InputError } from "../util/errors.js";
import { describeTargets, type LoadedConfig } from "./load.js";
import type { TargetConfig } from "./schema.js";

export interface ResolvedTarget {
  name: string;
  config: TargetConfig;
}

export const EMBEDDED_LOCAL: TargetConfig = { kind: "local" };

/** A target reached over SSH: jobs run there, and code, env and runtime files are shipped to it. */
export type RemoteTargetConfig = Extract<TargetConfig, { host: string }>;

/** Whether jobs on this target run elsewhere, over SSH (a target with a host); else they run on this machine. */
export function isRemoteTarget(target: TargetConfig): target is RemoteTargetConfig {
  return "host" in target;
}

export const BUILTIN_RESOURCES: Resources = { nodes: 1, cpus: 1, mem: 1, gpus: 0, time: 60, partition: null };

export function resolveTarget(config: LoadedConfig, flag?: string): ResolvedTarget {
  const fromEnv = config.env["SLURMRAY_TARGET"];
  const name = flag ?? (fromEnv || undefined) ?? config.defaultTarget;
  const target = config.targets[name];
  if (target) return { name, config: target };
  if (name === "local") return { name, config: EMBEDDED_LOCAL };
  const where = flag !== undefined ? "--target" : fromEnv ? "SLURMRAY_TARGET" : "project.default_target";
  throw new ConfigError(where, `no target named ${JSON.stringify(name)}; ${describeTargets(config.targets)}`);
}

export type ResourceFlags = Partial<Resources>;

export function resolveResources(target: TargetConfig, flags: ResourceFlags): Resources {
  const defaults = target.defaults ?? {};
  const partition = flags.partition ?? (target.kind === "slurm" ? (target.partition ?? null) : null);
  const resources: Resources = {
    nodes: flags.nodes ?? defaults.nodes ?? BUILTIN_RESOURCES.nodes,
    cpus: flags.cpus ?? defaults.cpus ?? BUILTIN_RESOURCES.cpus,
    mem: flags.mem ?? defaults.mem ?? BUILTIN_RESOURCES.mem,
    gpus: flags.gpus ?? defaults.gpus ?? BUILTIN_RESOURCES.gpus,
    time: flags.time ?? defaults.time ?? BUILTIN_RESOURCES.time,
    partition,
  };
  if (target.kind !== "slurm" && resources.nodes > 1) {
    throw new InputError(`--nodes ${resources.nodes}: a ${target.kind} target runs on one machine; use a slurm target for several nodes`);
  }
  return resources;
}
