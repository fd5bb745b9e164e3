// A JobRecord for Slurm tests, with overrides.
import type { JobRecord, JobSpec } from "../../../src/model/job.js";
import type { ArgsJson } from "../../../src/model/job-args.js";

export function slurmJob(overrides: Partial<JobRecord> = {}, spec: Partial<JobSpec> = {}): JobRecord {
  return {
    id: "20261124-135501-3fa2c1",
    target: "cluster",
    kind: "slurm",
    project: "demo",
    spec: {
      entry: "train.py:main",
      args: '{"lr": 0.1}' as ArgsJson,
      scriptArgs: [],
      env: {},
      ray: false,
      resources: { nodes: 1, cpus: 1, mem: 1, gpus: 0, time: 60, partition: null },
      ...spec,
    },
    state: "SUBMITTING",
    schedulerId: null,
    remoteDir: "/home/alice/.slurmray/projects/demo/jobs/20261124-135501-3fa2c1",
    codeDir: "/home/alice/.slurmray/projects/demo/code",
    python: "/home/alice/.slurmray/envs/demo-py3.11/bin/python",
    createdAt: "2026-11-24T13:55:01.000Z",
    startedAt: null,
    endedAt: null,
    reason: null,
    exitCode: null,
    ...overrides,
  };
}
