// Submission in one remote command: create the job dir (0700), pin the job's code tree (its `code` link,
// made under the store's shared lock so that a concurrent `clean` cannot remove the tree meanwhile) and check
// its env still holds what it was synced for (code-link.ts), write
// job.json and sbatch.sh, clear the outcome files of an earlier attempt (a retry reuses the dir; job.log
// is appended to), `sbatch --parsable`.
// The snippet can be batched with other layers' work; its output is the slurm-submit section.
import { runnerSpecJson } from "../../model/runner-spec.js";
import type { JobRecord } from "../../model/job.js";
import { EXIT, RemoteCommandError, SlurmrayError } from "../../util/errors.js";
import { quote } from "../../util/shell.js";
import { elementDirCommands } from "../batched.js";
import { envChangedError, pinLines } from "../code-link.js";
import { jobPaths } from "../types.js";
import { sectionLines, wrapSection } from "../../util/sections.js";

export const SUBMIT_SECTION = "slurm-submit";
/** The exit code of the submit snippet when the job dir could not be written. */
const SETUP_FAILED = 90;

/** A job dir to write before sbatch: the job's own, or one per array element. */
export interface SubmitDir {
  dir: string;
  /** job.json's text. */
  spec: string;
}

/** POSIX sh that writes the job dir and submits it; prints `sbatch-exit|<code>` and sbatch's output. */
export function submitSnippet(job: JobRecord, sbatchScript: string): string {
  return submitDirsSnippet(job.remoteDir, job, [{ dir: job.remoteDir, spec: runnerSpecJson(job) }], sbatchScript, []);
}

/**
 * The same for any job dirs: `dir` holds sbatch.sh and the link to the code tree the job pins (`pin`'s, whose
 * env is checked too: code-link.ts); each of `dirs` gets its job.json (an array has one dir per element below
 * `dir`). `sbatchArgs` are validated options such as `--array=0-19%5`.
 */
export function submitDirsSnippet(dir: string, pin: Pick<JobRecord, "codeDir" | "python" | "envHash">, dirs: readonly SubmitDir[], sbatchScript: string, sbatchArgs: readonly string[]): string {
  const writes = [
    ...elementDirCommands(dir, dirs.map((d) => d.dir)).map((c) => `    ${c} &&`),
    // printf is a shell builtin: no process per element.
    ...dirs.map(({ dir: d, spec }) => `    printf '%s' ${quote(`${spec}\n`)} > ${quote(jobPaths(d).spec)} &&`),
  ];
  return wrapSection(
    SUBMIT_SECTION,
    [
      "(",
      // The job runs with the user's own umask (sbatch hands its own to the job); the job dir is private.
      "  sr_umask=$(umask)",
      "  umask 077",
      // Writing the job dir fails with its own message (a read-only or foreign jobs dir), in the section.
      "  {",
      `    mkdir -p ${quote(dir)} && chmod 700 ${quote(dir)} &&`,
      ...writes,
      `    printf '%s' ${quote(sbatchScript)} > ${quote(`${dir}/sbatch.sh`)}`,
      `  } 2>&1 || exit ${SETUP_FAILED}`,
      ...pinLines(dir, pin),
      `  cd ${quote(dir)} && umask "$sr_umask" && ${["sbatch", "--parsable", ...sbatchArgs].map(quote).join(" ")} sbatch.sh 2>&1`,
      ")",
      'echo "sbatch-exit|$?"',
    ].join("\n"),
  );
}

/** The Slurm job id from the slurm-submit section: "123" or "123;cluster" → "123". */
export function parseSubmitOutput(stdout: string): string {
  const lines = sectionLines(stdout, SUBMIT_SECTION) ?? [];
  const exit = lines.find((l) => l.startsWith("sbatch-exit|"));
  const output = lines.filter((l) => !l.startsWith("sbatch-exit|"));
  const id = output.map((l) => /^(\d+)(?:;\S+)?$/.exec(l.trim())?.[1]).find((m) => m !== undefined);
  if (exit === "sbatch-exit|0" && id) return id;
  const code = exit ? Number(exit.split("|")[1]) : 1;
  const text = (exit ? output : [stdout]).join("\n");
  const envChanged = envChangedError(code, text);
  if (envChanged) throw envChanged;
  if (code === SETUP_FAILED) {
    throw new SlurmrayError(`Could not write the job dir on the target, so nothing was submitted:\n${text.trim()}\nCheck that base_dir and its jobs dir are yours and writable.`, EXIT.jobFailed);
  }
  throw new RemoteCommandError("Submitting the job with sbatch", "sbatch --parsable sbatch.sh", code, text);
}
