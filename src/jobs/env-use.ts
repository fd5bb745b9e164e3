// Which remote envs jobs still use (see envsync/generations.ts): the env of a job is the dir of the python its
// record names. Only this project's records can use its envs (the env family is per project). A record
// that is not final may still be active; the backend says which are, in one command, asked only when some
// record is not final. A run between its env sync and its job's record holds a claim instead (registry.ts).
// A project whose config sets `name` may be shared with other clones, whose jobs this clone has no record
// of: for it the same command is always asked, and it also reads, from each live job's remote dir, the
// python its job.json names.
import { withRuntime } from "../backends/runtime.js";
import type { JobRecord } from "../model/job.js";
import { envOfJob, isFinal } from "../model/job.js";
import { RemoteCommandError } from "../util/errors.js";
import { quote } from "../util/shell.js";
import type { EnvsInUse } from "../envsync/generations.js";
import { envClaimed, listJobs } from "./registry.js";
import { REMOTE_PYTHON } from "./remote-paths.js";
import type { TargetSession } from "./session.js";

/** Whether `envDir` is a generation of the family `base` (`<base>` or `<base>-<n>`). */
function inFamily(envDir: string, base: string): boolean {
  return envDir === base || (envDir.startsWith(`${base}-`) && /^\d+$/.test(envDir.slice(base.length + 1)));
}

/**
 * The env dirs of the family `base` (all families when null) that pending or running jobs use on the session's
 * target, and whether another run of the project holds a claim (registry.ts, claimEnv); `ownJob` is the caller's.
 */
export async function envsInUse(session: TargetSession, base: string | null, ownJob?: string): Promise<EnvsInUse> {
  const { root } = session.config;
  const claimed = envClaimed(root, ownJob);
  const candidates = listJobs(root).filter(
    (job) => job.target === session.target.name && !isFinal(job.state) && job.schedulerId !== null && (base === null || inFamily(envOfJob(job), base)),
  );
  const shared = session.config.project.name !== undefined && session.layout !== null;
  if (candidates.length === 0 && !shared) return { dirs: [], claimed, shared };
  const live = await liveJobs(session, candidates);
  const dirs = [
    ...candidates.filter((job) => live.has(job.id)).map(envOfJob),
    ...[...live.values()].filter((dir): dir is string => dir !== null && (base === null || inFamily(dir, base))),
  ];
  return { dirs: [...new Set(dirs)], claimed, shared };
}

/**
 * Prints `<id>\t<python>` for each live job id on stdin: the python that job.json in the job's dir under
 * argv[1] names (an array's: its first element's), empty when none says. Ids come from job names, so only
 * plain ones are looked up.
 */
export const JOB_PYTHONS = `import glob, json, os, re, sys
jobs = sys.argv[1]
for line in sys.stdin:
    job_id = line.strip()
    if not re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*$", job_id):
        continue
    specs = [os.path.join(jobs, job_id, "job.json")] + sorted(glob.glob(os.path.join(glob.escape(jobs), job_id, "*", "job.json")))
    python = ""
    for spec in specs:
        try:
            with open(spec, encoding="utf-8") as f:
                value = json.load(f).get("python")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(value, str) and not set(value) & set("\\t\\n\\r"):
            python = value
            break
    print(job_id + "\\t" + python)
`;

/** The env of the python a remote job dir named, when it is an env's interpreter (`/…/<env>/bin/python`). */
function envOfRemotePython(python: string): string | null {
  return /^\/.+\/bin\/python$/.test(python) ? envOfJob({ python }) : null;
}

/**
 * The slurmray ids of this project's jobs that are pending or running now, each with the env its remote
 * job.json names (null if none), through the backend's one active-jobs hook (one remote command); on this
 * machine, `candidates` checked against the process table.
 */
async function liveJobs(session: TargetSession, candidates: readonly JobRecord[]): Promise<Map<string, string | null>> {
  const command = session.backend.liveJobsCommand(session.config.projectName);
  if (command === null || session.layout === null) {
    const statuses = await session.backend.poll(candidates);
    return new Map(candidates.filter((job) => !isFinal(statuses.get(job.id)?.state ?? "FAILED")).map((job) => [job.id, null]));
  }
  const { runtimeDir, jobsDir } = session.layout;
  const script = `sr_live=$(${command}) || exit 1\nprintf '%s\\n' "$sr_live" | ${REMOTE_PYTHON} -c ${quote(JOB_PYTHONS)} ${quote(jobsDir)}`;
  return withRuntime(session.transport, runtimeDir, async () => {
    const { code, stdout, stderr } = await session.transport.exec(["sh", "-c", script]);
    if (code !== 0) throw new RemoteCommandError("Asking the scheduler which jobs are alive", "the backend's live-jobs command", code, stderr);
    return parseLiveJobs(stdout);
  });
}

/** JOB_PYTHONS' output: each live id with the env its python names, if that is an env's interpreter. */
export function parseLiveJobs(stdout: string): Map<string, string | null> {
  const live = new Map<string, string | null>();
  for (const line of stdout.split("\n")) {
    const [id, python = ""] = line.split("\t");
    if (id) live.set(id, envOfRemotePython(python));
  }
  return live;
}
