// Pre-flight against the partition: what no node of it can ever give (more nodes than it has, a longer time
// than its limit, GPUs where no node has one) would pend forever with a reason only squeue shows. The limits
// come from one sinfo line per node and partition, read in the run's batched probe and cached briefly.
import type { JobSpec } from "../../model/job.js";
import { InputError } from "../../util/errors.js";
import { wrapSection } from "../../util/sections.js";
import { parseDuration } from "./format.js";

export const LIMITS_SECTION = "slurm-limits";

export interface PartitionLimits {
  name: string;
  isDefault: boolean;
  nodes: number;
  /** seconds; null = unlimited */
  maxTime: number | null;
  maxCpusPerNode: number;
  /** MB */
  maxMemPerNode: number;
  maxGpusPerNode: number;
}

/** One line per (partition, node): partition (with * for the default), node, gres, cpus, memory MB, time limit. */
export function limitsSnippet(): string {
  return wrapSection(LIMITS_SECTION, "sinfo -h -N -o '%P|%N|%G|%c|%m|%l' 2>/dev/null");
}

/** GPUs in a gres string: "gpu:2", "gpu:a100:4(S:0-1)", "gpu:1,shard:4" → 2, 4, 1; "(null)" → 0. */
export function gpusInGres(gres: string): number {
  let total = 0;
  for (const part of gres.split(",")) {
    const match = /^gpu(?::[^:(]+)?:(\d+)/.exec(part.trim());
    if (match) total += Number(match[1]);
  }
  return total;
}

export function parseLimits(lines: readonly string[]): PartitionLimits[] {
  const partitions = new Map<string, PartitionLimits & { nodeNames: Set<string> }>();
  for (const line of lines) {
    const [rawName = "", node = "", gres = "", cpus = "", mem = "", time = ""] = line.split("|");
    if (!rawName || !node) continue;
    const name = rawName.replace(/\*$/, "");
    const p = partitions.get(name) ?? { name, isDefault: rawName.endsWith("*"), nodes: 0, nodeNames: new Set<string>(), maxTime: parseDuration(time), maxCpusPerNode: 0, maxMemPerNode: 0, maxGpusPerNode: 0 };
    p.nodeNames.add(node);
    p.nodes = p.nodeNames.size;
    p.maxCpusPerNode = Math.max(p.maxCpusPerNode, Number.parseInt(cpus, 10) || 0);
    p.maxMemPerNode = Math.max(p.maxMemPerNode, Number.parseInt(mem, 10) || 0);
    p.maxGpusPerNode = Math.max(p.maxGpusPerNode, gpusInGres(gres));
    partitions.set(name, p);
  }
  return [...partitions.values()].map(({ nodeNames: _, ...p }) => p);
}

function minutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? "" : "s"}` : `${seconds} seconds`;
}

/** Throws InputError (exit 2) naming the limit when no node of the job's partition could ever run it. */
export function checkLimits(spec: JobSpec, partitions: readonly PartitionLimits[]): void {
  if (partitions.length === 0) return;
  const wanted = spec.resources.partition;
  const partition = wanted === null ? partitions.find((p) => p.isDefault) : partitions.find((p) => p.name === wanted);
  if (!partition) {
    if (wanted === null) return;
    throw new InputError(`--partition ${wanted}: the cluster has no such partition; it has ${partitions.map((p) => p.name).join(", ")}`);
  }
  const r = spec.resources;
  const where = `partition "${partition.name}"`;
  if (r.nodes > partition.nodes) {
    throw new InputError(`--nodes ${r.nodes}: ${where} has ${partition.nodes} node${partition.nodes === 1 ? "" : "s"}; ask for --nodes ${partition.nodes} or fewer, or choose another partition`);
  }
  if (partition.maxTime !== null && r.time * 60 > partition.maxTime) {
    throw new InputError(`--time ${r.time}: ${where} allows at most ${minutes(partition.maxTime)}; ask for less, or choose another partition`);
  }
  if (partition.maxCpusPerNode > 0 && r.cpus > partition.maxCpusPerNode) {
    throw new InputError(`--cpus ${r.cpus}: the nodes of ${where} have at most ${partition.maxCpusPerNode} CPUs each`);
  }
  if (partition.maxMemPerNode > 0 && r.mem * 1024 > partition.maxMemPerNode) {
    throw new InputError(`--mem ${r.mem}: the nodes of ${where} have at most ${Math.floor((partition.maxMemPerNode / 1024) * 10) / 10} GB each (${partition.maxMemPerNode} MB)`);
  }
  if (r.gpus > partition.maxGpusPerNode) {
    const has = partition.maxGpusPerNode === 0 ? "no node of it has a GPU" : `its nodes have at most ${partition.maxGpusPerNode} GPUs each`;
    throw new InputError(`--gpus ${r.gpus}: ${where}: ${has}`);
  }
}
