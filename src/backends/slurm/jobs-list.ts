// `slurmray jobs --target X`: the user's slurmray jobs (job name slurmray-<project>-<id>) from squeue and,
// for finished ones, sacct with CPU efficiency and peak memory. One remote command.
import type { ListedJob as GenericListedJob } from "../../model/listed-job.js";
import type { Transport } from "../../transport/types.js";
import { RemoteCommandError } from "../../util/errors.js";
import { quote } from "../../util/shell.js";
import { expandHostlist, parseDuration, parseMemory, parseTres } from "./format.js";
import { sectionLines, wrapSection } from "../../util/sections.js";
import { SLURM_JOB_ID } from "./ids.js";
import { mapSlurmState } from "./states.js";

export const JOBS_SECTION = "slurm-jobs";
const NAME_PREFIX = "slurmray-";

/** A listed job with Slurm's own job name (slurmray-<project>-<slurmray job id>) and state word. */
export type ListedJob = Omit<GenericListedJob, "jobId" | "schedulerState"> & { name: string; slurmState: string };

export interface ListedJobs {
  jobs: ListedJob[];
  sacctError: string | null;
}

/** POSIX sh printing the user's jobs (squeue) and the last `sinceDays` of accounting (sacct). */
export function jobsSnippet(user: string | null, sinceDays = 7): string {
  const who = user === null ? '"$(id -un)"' : quote(user);
  const since = quote(`now-${Math.max(0, Math.trunc(sinceDays))}days`);
  return wrapSection(
    JOBS_SECTION,
    [
      `squeue -h -u ${who} -o 'q|%i|%j|%T|%M|%N|%b' 2>&1`,
      `sr_a=$(sacct -n -P -u ${who} -S ${since} -o JobID,JobName,State,Elapsed,NodeList,AllocTRES,AllocCPUS,TotalCPU,MaxRSS 2>&1)`,
      `echo "sacct-exit|$?"`,
      `printf '%s\\n' "$sr_a" | sed 's/^/a|/'`,
    ].join("\n"),
  );
}

interface Accounted {
  name: string;
  slurmState: string;
  elapsed: number | null;
  nodes: string[];
  gpus: number;
  cpus: number;
  totalCpu: number | null;
  maxRss: number | null;
}

function gpusOf(tres: string): number {
  const fields = parseTres(tres);
  const count = fields.get("gres/gpu") ?? [...fields].find(([k]) => k.startsWith("gres/gpu:"))?.[1];
  return count ? Number.parseInt(count, 10) || 0 : 0;
}

/** Gathers sacct rows by job: the allocation row ("123") and its steps ("123.batch", "123.0") for MaxRSS. */
function parseSacct(rows: string[][]): Map<string, Accounted> {
  const jobs = new Map<string, Accounted>();
  for (const [jobId = "", name = "", state = "", elapsed = "", nodes = "", tres = "", cpus = "", totalCpu = "", maxRss = ""] of rows) {
    const [id = "", step] = jobId.split(".");
    const rss = parseMemory(maxRss);
    if (step === undefined) {
      jobs.set(id, {
        name,
        slurmState: state,
        elapsed: parseDuration(elapsed),
        nodes: expandHostlist(nodes),
        gpus: gpusOf(tres),
        cpus: Number(cpus) || 0,
        totalCpu: parseDuration(totalCpu),
        maxRss: rss,
      });
    } else {
      const job = jobs.get(id);
      if (job && rss !== null) job.maxRss = Math.max(job.maxRss ?? 0, rss);
    }
  }
  return jobs;
}

function efficiency(job: Accounted): number | null {
  if (job.totalCpu === null || !job.elapsed || !job.cpus) return null;
  return Math.min(1, job.totalCpu / (job.elapsed * job.cpus));
}

/** Parses the slurm-jobs section. Throws RemoteCommandError when squeue failed. */
export function parseJobsOutput(stdout: string): ListedJobs {
  const lines = sectionLines(stdout, JOBS_SECTION) ?? [];
  const queued: string[][] = [];
  const accounted: string[][] = [];
  const squeueErrors: string[] = [];
  let sacctExit = 0;
  for (const line of lines) {
    const fields = line.split("|");
    if (fields[0] === "q" && fields.length >= 7) queued.push(fields.slice(1));
    else if (fields[0] === "a") accounted.push(fields.slice(1));
    else if (fields[0] === "sacct-exit") sacctExit = Number(fields[1]);
    else if (line.trim() !== "") squeueErrors.push(line);
  }
  if (squeueErrors.length > 0) throw new RemoteCommandError("Listing jobs with squeue", "squeue -u …", 1, squeueErrors.join("\n"));
  const sacctError = sacctExit === 0 ? null : accounted.map((f) => f.join("|")).join("\n").trim() || `sacct exited with code ${sacctExit}`;
  const history = sacctExit === 0 ? parseSacct(accounted) : new Map<string, Accounted>();

  const jobs = new Map<string, ListedJob>();
  for (const [id, job] of history) {
    const mapped = mapSlurmState(job.slurmState);
    if (!job.name.startsWith(NAME_PREFIX) || !mapped || !SLURM_JOB_ID.test(id)) continue;
    const ended = mapped.state !== "PENDING" && mapped.state !== "RUNNING";
    jobs.set(id, {
      schedulerId: id,
      name: job.name,
      state: mapped.state,
      slurmState: job.slurmState,
      elapsedSeconds: job.elapsed,
      nodes: job.nodes,
      gpus: job.gpus,
      cpuEfficiency: ended ? efficiency(job) : null,
      maxRssBytes: ended ? job.maxRss : null,
    });
  }
  // squeue is current; sacct may lag: its word wins for jobs still in the queue.
  for (const [id, name, slurmState, elapsed, nodes, gres] of queued as [string, string, string, string, string, string][]) {
    const mapped = mapSlurmState(slurmState);
    if (!name.startsWith(NAME_PREFIX) || !mapped || !SLURM_JOB_ID.test(id)) continue;
    const known = jobs.get(id);
    jobs.set(id, {
      ...(known ?? { cpuEfficiency: null, maxRssBytes: null }),
      schedulerId: id,
      name,
      state: mapped.state,
      slurmState,
      elapsedSeconds: parseDuration(elapsed),
      nodes: expandHostlist(nodes),
      gpus: Math.max(known?.gpus ?? 0, Number(/gpu(?::[^:,]+)?:(\d+)/.exec(gres)?.[1]) || 0),
    });
  }
  return { jobs: [...jobs.values()].sort((a, b) => Number(b.schedulerId) - Number(a.schedulerId)), sacctError };
}

/**
 * POSIX sh printing the slurmray job ids of this project that Slurm still holds for the user (pending,
 * running, completing), one per line; it fails when squeue does. For retention, batched into its command.
 */
export function liveJobsCommand(project: string): string {
  const prefix = quote(`${NAME_PREFIX}${project}-`);
  return [
    'sr_q=$(squeue -h -u "$(id -un)" -o %j) || exit 1',
    `printf '%s\\n' "$sr_q" | awk -v p=${prefix} 'index($0, p) == 1 { print substr($0, length(p) + 1) }'`,
  ].join("\n");
}

/** The user's slurmray jobs on a Slurm target, newest first (user: null = the login user). */
export async function listJobs(transport: Transport, user: string | null = null, sinceDays = 7): Promise<ListedJobs> {
  const { stdout } = await transport.script(jobsSnippet(user, sinceDays));
  return parseJobsOutput(stdout);
}
