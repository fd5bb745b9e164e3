// The local job registry: .slurmray/jobs/<id>.json under the project root, one record per job,
// written atomically. It is what lets `status`, `logs`, `attach` work from another shell or after a restart.
// Records are checked before use: a record's scheduler id and paths go into commands and signals.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { isObject, readJsonChecked } from "../util/json-file.js";
import { heldByLiveProcess, waitPidLock, writeOwnPid } from "../util/pid-lock.js";
import { ACTIVE_STATES, FINAL_STATES, isFinal, type JobRecord, TARGET_KINDS } from "../model/job.js";
import { type ArgsJson, asArgsJson } from "../model/job-args.js";
import { absorbElement, elementRecord, parseElementId } from "./array-record.js";

export const STATE_DIR = ".slurmray";

const JOB_ID = /^\d{8}-\d{6}-[0-9a-f]{6}$/;
// Any kind's scheduler handle (a Slurm id, a local "<pid>:<start>"): no shell or path characters. Each
// backend checks its own format again before a handle reaches a command or a signal.
const SCHEDULER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

// A hand-written check rather than zod: `status` and `jobs` read every record and must start at once (zod
// alone costs ~100 ms to load).
type Check = (value: unknown) => string | null;
const str: Check = (v) => (typeof v === "string" ? null : "expected a string");
const nonEmpty: Check = (v) => (typeof v === "string" && v !== "" ? null : "expected a non-empty string");
const num: Check = (v) => (typeof v === "number" && Number.isFinite(v) ? null : "expected a number");
const bool: Check = (v) => (typeof v === "boolean" ? null : "expected true or false");
const nullable = (check: Check): Check => (v) => (v === null ? null : check(v));
const matching = (pattern: RegExp, what: string): Check => (v) => (typeof v === "string" && pattern.test(v) ? null : `expected ${what}`);
const oneOf = (values: readonly string[]): Check => (v) => (typeof v === "string" && values.includes(v) ? null : `expected one of ${values.join(", ")}`);
const objectOf = (check: Check): Check => (v) => (isObject(v) ? (Object.values(v).map(check).find((e) => e !== null) ?? null) : "expected an object");
const arrayOf = (check: Check): Check => (v) => (Array.isArray(v) ? (v.map(check).find((e) => e !== null) ?? null) : "expected a list");
/** Keyword arguments are kept as the JSON text of an object (model/job-args.ts); a record from before that holds the object. */
const argsJson: Check = (v) => ((typeof v === "string" && asArgsJson(v) !== null) || isObject(v) ? null : "expected the JSON text of an object");

/** A record written before arguments were kept as text holds them as an object: its text, as it was sent then. */
function argsAsText(args: unknown): ArgsJson {
  return (typeof args === "string" ? args : JSON.stringify(args)) as ArgsJson;
}
const absolutePath = matching(/^\/[^\0]*$/, "an absolute path");

const RESOURCES: Record<string, Check> = { nodes: num, cpus: num, mem: num, gpus: num, time: num, partition: nullable(str) };
const SPEC: Record<string, Check> = { entry: nonEmpty, args: argsJson, scriptArgs: arrayOf(str), env: objectOf(str), ray: bool };
const RECORD: Record<string, Check> = {
  id: matching(JOB_ID, "a job id such as 20261124-135501-3fa2c1"),
  target: nonEmpty,
  kind: oneOf(TARGET_KINDS),
  project: str,
  state: oneOf([...FINAL_STATES, ...ACTIVE_STATES]),
  schedulerId: nullable(matching(SCHEDULER_ID, "a scheduler id (letters, digits, '_', '.', ':', '-')")),
  remoteDir: absolutePath,
  codeDir: absolutePath,
  python: nonEmpty,
  envHash: (v) => (v === undefined ? null : matching(/^[0-9a-f]{32}$/, "a snapshot hash (32 hex digits)")(v)),
  createdAt: str,
  startedAt: nullable(str),
  endedAt: nullable(str),
  reason: nullable(str),
  exitCode: nullable(num),
};

/** The first problem with an object's fields, as "path: what was expected", or null. */
function fieldsProblem(value: unknown, fields: Record<string, Check>, path: string): string | null {
  if (!isObject(value)) return `${path || "record"}: expected an object`;
  for (const [key, check] of Object.entries(fields)) {
    const problem = check(value[key]);
    if (problem) return `${path}${key}: ${problem}`;
  }
  return null;
}

const ELEMENT: Record<string, Check> = {
  args: argsJson,
  state: RECORD.state!,
  schedulerId: RECORD.schedulerId!,
  startedAt: nullable(str),
  endedAt: nullable(str),
  reason: nullable(str),
  exitCode: nullable(num),
};

/** A job array's part of the record (its element handles go into commands too). */
function arrayProblem(value: unknown): string | null {
  if (value === undefined) return null;
  if (!isObject(value) || num(value["maxParallel"]) !== null || !Array.isArray(value["elements"])) {
    return "array: expected {maxParallel, elements}";
  }
  return value["elements"].map((element, i) => fieldsProblem(element, ELEMENT, `array.elements.${i}.`)).find((p) => p !== null) ?? null;
}

function recordProblem(value: unknown): string | null {
  const spec = isObject(value) ? value["spec"] : undefined;
  return (
    fieldsProblem(value, RECORD, "") ??
    fieldsProblem(spec, SPEC, "spec.") ??
    fieldsProblem(isObject(spec) ? spec["resources"] : undefined, RESOURCES, "spec.resources.") ??
    arrayProblem(isObject(value) ? value["array"] : undefined)
  );
}

/** The record, or throws with what is wrong in it. The file name must be the record's own id. */
function checkRecord(file: string): (value: unknown) => JobRecord {
  return (value) => {
    const problem = recordProblem(value);
    if (problem) throw new Error(problem);
    const record = value as JobRecord;
    record.spec.args = argsAsText(record.spec.args);
    for (const element of record.array?.elements ?? []) element.args = argsAsText(element.args);
    if (`${record.id}.json` !== file) throw new Error(`its id ${record.id} does not match the file name`);
    return record;
  };
}

export function jobsDir(root: string): string {
  return join(root, STATE_DIR, "jobs");
}

/** Sortable, short, unique enough for one user: 20261124-135501-3fa2c1 */
export function newJobId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/** Removes a job's record; an id that is not a job id (from a garbled or forged reply) removes nothing. */
export function removeJob(root: string, id: string): void {
  if (JOB_ID.test(id)) rmSync(recordPath(root, id), { force: true });
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

function recordPath(root: string, id: string): string {
  return join(jobsDir(root), `${id}.json`);
}

/** The jobs dir, made (0700, with the state dir's .gitignore) when missing. */
function madeJobsDir(root: string): string {
  ignoreStateDir(root);
  mkdirSync(jobsDir(root), { recursive: true, mode: 0o700 });
  return jobsDir(root);
}

/** Job `id`'s own record file (not a prefix, not every record), or null when there is none; one that fails its check is an error. */
function readRecord(root: string, id: string): JobRecord | null {
  const path = recordPath(root, id);
  if (!existsSync(path)) return null;
  const read = readJsonChecked(path, checkRecord(`${id}.json`));
  if ("problem" in read) throw invalidRecord(path, read.problem);
  return read.value;
}

/** Job `id`'s record as it is on disk ("J_N": element N of array J), or null when it is gone or invalid (its listing says why). */
export function recordOnDisk(root: string, id: string): JobRecord | null {
  const element = parseElementId(id);
  try {
    const record = readRecord(root, element?.arrayId ?? id);
    return record && element ? elementRecord(record, element.index) : record;
  } catch {
    return null;
  }
}

/**
 * Changes record `id` as it is on disk, under its lock (`<id>.lock`, held for the read, the change and the
 * write): two commands changing one record at the same instant (a map saving its elements, a `cancel J_3` from
 * another shell) both keep their change. `change` may read the record (null when there is none; one that fails
 * its check is an error, as in findJob) and returns what to write, or null to leave it.
 */
function changeRecord(root: string, id: string, change: (current: () => JobRecord | null) => JobRecord | null): JobRecord | null {
  const release = waitPidLock(join(madeJobsDir(root), `${id}.lock`), `the record of job ${id}`);
  try {
    const next = change(() => readRecord(root, id));
    if (next) writeJsonAtomic(recordPath(root, id), next);
    return next;
  } finally {
    release();
  }
}

/**
 * Writes a state the scheduler reported (or a cancel) into job `id`'s record as it is on disk now (an array
 * element's into its array's), so that nothing another command wrote meanwhile (a map's submission ids, a
 * cancel) is lost. The first end recorded wins: a record already final (a `run` or `attach` in another shell)
 * is left as it is. Returns the record as written, or null when nothing was (gone, already final, or in that state).
 */
export function recordStatus(root: string, id: string, fields: Partial<Pick<JobRecord, "state" | "exitCode" | "endedAt" | "reason" | "startedAt">>): JobRecord | null {
  const element = parseElementId(id);
  let written: JobRecord | null = null;
  try {
    changeRecord(root, element?.arrayId ?? id, (read) => {
      const record = read();
      const current = record && element ? elementRecord(record, element.index) : record;
      if (!current || isFinal(current.state) || current.state === fields.state) return null;
      const { startedAt, ...rest } = fields;
      written = Object.assign(current, rest, current.startedAt === null && startedAt !== undefined ? { startedAt } : {});
      if (record !== current) absorbElement(record!, current);
      return record;
    });
  } catch (error) {
    if (error instanceof InputError) return null; // an invalid record (shown by status itself), or its lock held too long: the next poll tells again
    throw error;
  }
  return written;
}

/** Saves a record as it is; an array element's is written into its array's record. */
export function saveJob(root: string, job: JobRecord): void {
  if (job.element === undefined) {
    changeRecord(root, job.id, () => job);
    return;
  }
  const { arrayId } = parseElementId(job.id)!;
  changeRecord(root, arrayId, (read) => {
    const array = read();
    if (!array) throw new InputError(`no job ${arrayId} in ${jobsDir(root)} (see: slurmray jobs)`);
    absorbElement(array, job);
    return array;
  });
}

/**
 * Saves a job just submitted, with its scheduler id. A cancel that reached its record while it was being
 * submitted (`slurmray cancel` from another shell; there was no id to cancel yet) stands: the record stays
 * CANCELLED and gains the id, this copy takes that end, and true says the caller must cancel the job now.
 */
export function saveSubmitted(root: string, job: JobRecord): boolean {
  let cancelled = false;
  changeRecord(root, job.id, (read) => {
    const current = read();
    if (current?.state !== "CANCELLED") return job;
    cancelled = true;
    const { state, endedAt, reason } = current;
    return Object.assign(job, { state, endedAt, reason });
  });
  return cancelled;
}

/**
 * Saves the record of an array this process holds in memory (a map watching it): each element as this copy
 * has it, except one whose end another command recorded first (a `cancel J_3` from another shell, a `status`
 * that polled it): that end is kept, and this copy takes it, so that the watch leaves that element be. Where
 * the two ends differ (the element had completed when the cancel came), this copy's, which is what the
 * scheduler and the runner reported, is the one kept. `change` then runs on the merged copy (a cancel of what
 * is still active), before the write.
 */
export function saveArray(root: string, job: JobRecord, change?: (job: JobRecord) => void): void {
  changeRecord(root, job.id, (read) => {
    const onDisk = read();
    const elements = job.array!.elements;
    if (onDisk?.array?.elements.length === elements.length) {
      onDisk.array.elements.forEach((element, index) => {
        const { state: mine, schedulerId } = elements[index]!;
        if (!isFinal(element.state) || (isFinal(mine) && mine !== element.state)) return;
        // An element cancelled while it was being submitted had no handle then: it keeps the one it got since.
        absorbElement(job, { ...elementRecord(onDisk, index), schedulerId: element.schedulerId ?? schedulerId });
      });
    }
    change?.(job);
    return job;
  });
}

const CLAIM = ".claim";

/**
 * A run's claim on the project's remote env (`.slurmray/jobs/<id>.claim`, holding its pid), taken before its
 * env sync and released once its job's record names the scheduler's id (or the run failed). While another
 * run holds one, a sync of this project neither changes the current env in place nor removes a generation:
 * that run may have synced an env and be about to submit a job with it, and no record says so yet. A claim
 * whose process is gone counts for nothing. Returns its release.
 */
export function claimEnv(root: string, id: string): () => void {
  const path = join(madeJobsDir(root), `${id}${CLAIM}`);
  writeOwnPid(path);
  return () => rmSync(path, { force: true });
}

/** Whether a run other than `ownId` holds a claim (see claimEnv). Claims of processes that are gone are removed. */
export function envClaimed(root: string, ownId?: string): boolean {
  const dir = jobsDir(root);
  if (!existsSync(dir)) return false;
  let claimed = false;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(CLAIM) || name === `${ownId}${CLAIM}`) continue;
    const path = join(dir, name);
    if (heldByLiveProcess(path)) claimed = true;
    else rmSync(path, { force: true });
  }
  return claimed;
}

/** A record file that failed its check: the error to show for it. */
export interface InvalidRecord {
  id: string;
  file: string;
  error: InputError;
}

function invalidRecord(path: string, problem: string): InputError {
  return new InputError(`the job record ${path} ${problem}. Delete it (rm ${path}) or restore it from a backup; slurmray will not act on it`);
}

/** Every record, the valid ones in id order and the invalid ones apart, each with its error. */
export function readJobs(root: string): { jobs: JobRecord[]; invalid: InvalidRecord[] } {
  const dir = jobsDir(root);
  const result: { jobs: JobRecord[]; invalid: InvalidRecord[] } = { jobs: [], invalid: [] };
  if (!existsSync(dir)) return result;
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
    const path = join(dir, name);
    const read = readJsonChecked(path, checkRecord(name));
    if ("value" in read) result.jobs.push(read.value);
    else result.invalid.push({ id: name.slice(0, -".json".length), file: path, error: invalidRecord(path, read.problem) });
  }
  return result;
}

/**
 * The ids of the project's jobs that the registry holds as not yet ended (retention keeps their dirs), whatever
 * their target: another target on the same host and base_dir shares the remote job dirs, and its scheduler's
 * live list may not name them (a server and a Slurm target).
 */
export function activeJobIds(root: string): string[] {
  return listJobs(root)
    .filter((job) => !isFinal(job.state))
    .map((job) => job.id);
}

/** The valid records, in id order (invalid ones are left out: see readJobs). */
export function listJobs(root: string): JobRecord[] {
  return readJobs(root).jobs;
}

/** Finds a job by id, by a unique prefix of it, or "last" / no id for the newest; "J_N" is element N of array J. */
export function findJob(root: string, idOrPrefix?: string): JobRecord {
  const element = idOrPrefix === undefined ? null : parseElementId(idOrPrefix);
  if (element) return elementRecord(findJob(root, element.arrayId), element.index);
  const { jobs, invalid } = readJobs(root);
  if (idOrPrefix === undefined || idOrPrefix === "last") {
    const last = jobs.at(-1);
    const lastInvalid = invalid.at(-1);
    // The newest job is the one asked for: when its record is invalid, say so rather than show an older one.
    if (lastInvalid && (!last || lastInvalid.id > last.id)) throw lastInvalid.error;
    if (!last) throw new InputError(`no slurmray jobs in ${jobsDir(root)} yet; start one with: slurmray run ENTRY`);
    return last;
  }
  if (!/^[0-9a-f-]+$/.test(idOrPrefix)) {
    throw new InputError(`job ${JSON.stringify(idOrPrefix)}: a job id looks like 20261124-135501-3fa2c1, an array element like 20261124-135501-3fa2c1_7 (see: slurmray jobs)`);
  }
  const matches = [...jobs, ...invalid].filter((job) => job.id.startsWith(idOrPrefix));
  if (matches.length === 1) {
    const [match] = matches;
    if ("error" in match!) throw match.error;
    return match!;
  }
  if (matches.length === 0) throw new InputError(`no job ${JSON.stringify(idOrPrefix)} in ${jobsDir(root)} (see: slurmray jobs)`);
  throw new InputError(`job ${JSON.stringify(idOrPrefix)} is ambiguous: ${matches.map((j) => j.id).join(", ")}`);
}
