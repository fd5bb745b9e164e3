// The one place that knows which kinds exist. Adding a kind: its folder, and one line here.
import type { TargetConfig } from "../config/schema.js";
import type { JobSpec, Resources, TargetKind } from "../model/job.js";
import type { KindDoctor } from "./doctor.js";
import { checkLocalJob, createLocalBackend } from "./local/index.js";
import { serverDoctor } from "./server/doctor.js";
import { checkServerJob, createServerBackend } from "./server/index.js";
import { slurmDoctor } from "./slurm/doctor.js";
import { checkSlurmJob, createSlurmBackend } from "./slurm/index.js";
import type { Backend, BackendContext } from "./types.js";

export interface KindInfo {
  create(context: BackendContext): Backend;
  /**
   * Refuses, before anything is sent, a job this target could never run (a bad scheduler parameter, more
   * nodes than one machine has). Throws InputError (exit 2). Pure: no remote command.
   */
  check(target: TargetConfig, spec: JobSpec, name: string): void;
  /** The kind's own checks in `slurmray doctor`; absent when the kind has none beyond the common ones. */
  doctor?: KindDoctor;
  /** Resources this kind does not apply to a job, and why: asking for one gets a warning, not a silent nothing. */
  unapplied?: { resources: readonly (keyof Resources)[]; because: string };
}

const KINDS: Record<TargetKind, KindInfo> = {
  local: { create: createLocalBackend, check: checkLocalJob, unapplied: { resources: ["cpus", "mem", "gpus", "time", "partition"], because: "it runs jobs on this machine without limits" } },
  slurm: { create: createSlurmBackend, check: checkSlurmJob, doctor: slurmDoctor },
  server: { create: createServerBackend, check: checkServerJob, doctor: serverDoctor, unapplied: { resources: ["partition"], because: "a shared server has no partitions" } },
};

export function kindInfo(kind: TargetKind): KindInfo {
  return KINDS[kind];
}
