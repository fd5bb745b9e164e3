// The local job registry: .slurmray/jobs/<id>.json under the project root, one record per job,
// written atomically. It is what lets `status`, `logs`, `attach` work from another shell or after a restart.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import type { JobRecord } from "./types.js";

export const STATE_DIR = ".slurmray";

export function jobsDir(root: string): string {
  return join(root, STATE_DIR, "jobs");
}

/** Sortable, short, unique enough for one user: 20261124-135501-3fa2c1 */
export function newJobId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/** Keeps .slurmray/ (job records, caches) out of git and out of what is shipped: a `*` .gitignore inside it. */
export function ignoreStateDir(root: string): void {
  const file = join(root, STATE_DIR, ".gitignore");
  if (existsSync(file)) return;
  mkdirSync(join(root, STATE_DIR), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, "# Written by slurmray: job records and caches are never committed.\n*\n", { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error; // another run wrote it first
  }
}

export function saveJob(root: string, job: JobRecord): void {
  ignoreStateDir(root);
  writeJsonAtomic(join(jobsDir(root), `${job.id}.json`), job);
}

export function listJobs(root: string): JobRecord[] {
  const dir = jobsDir(root);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(dir, name), "utf8")) as JobRecord);
}

/** Finds a job by id, by a unique prefix of it, or "last" / no id for the newest. */
export function findJob(root: string, idOrPrefix?: string): JobRecord {
  const jobs = listJobs(root);
  if (idOrPrefix === undefined || idOrPrefix === "last") {
    const last = jobs.at(-1);
    if (!last) throw new InputError(`no slurmray jobs in ${jobsDir(root)} yet; start one with: slurmray run ENTRY`);
    return last;
  }
  if (!/^[0-9a-f-]+$/.test(idOrPrefix)) {
    throw new InputError(`job ${JSON.stringify(idOrPrefix)}: a job id looks like 20261124-135501-3fa2c1 (see: slurmray jobs)`);
  }
  const matches = jobs.filter((job) => job.id.startsWith(idOrPrefix));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new InputError(`no job ${JSON.stringify(idOrPrefix)} in ${jobsDir(root)} (see: slurmray jobs)`);
  throw new InputError(`job ${JSON.stringify(idOrPrefix)} is ambiguous: ${matches.map((j) => j.id).join(", ")}`);
}
