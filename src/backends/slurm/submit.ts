// Submission in one remote command: create the job dir (0700), pin the job's code tree (its `code` link,
// made under the store's shared lock so that a concurrent `clean` cannot remove the tree meanwhile), write
// job.json and sbatch.sh, clear the outcome files of an earlier attempt (a retry reuses the dir; job.log
// is appended to), `sbatch --parsable`.
// The snippet can be batched with other layers' work; its output is the slurm-submit section.
import { runnerSpec } from "../../model/runner-spec.js";
import type { JobRecord } from "../../model/job.js";
import { EXIT, RemoteCommandError, SlurmrayError } from "../../util/errors.js";
import { quote } from "../../util/shell.js";
import { jobPaths } from "../types.js";
import { sectionLines, wrapSection } from "../../util/sections.js";

export const SUBMIT_SECTION = "slurm-submit";
/** The exit code of the submit snippet when the job dir could not be written. */
const SETUP_FAILED = 90;

/** POSIX sh that writes the job dir and submits it; prints `sbatch-exit|<code>` and sbatch's output. */
export function submitSnippet(job: JobRecord, sbatchScript: string): string {
  const paths = jobPaths(job.remoteDir);
  const dir = quote(paths.dir);
  const spec = `${JSON.stringify(runnerSpec(job))}\n`;
  return wrapSection(
    SUBMIT_SECTION,
    [
      "(",
      "  umask 077",
      // Writing the job dir fails with its own message (a read-only or foreign jobs dir), in the section.
      "  {",
      `    mkdir -p ${dir} && chmod 700 ${dir} &&`,
      `    rm -rf ${[paths.resultJson, paths.resultPkl, paths.error, `${paths.dir}/status.json`, `${paths.dir}/ray`].map(quote).join(" ")} &&`,
      `    printf '%s' ${quote(spec)} > ${quote(paths.spec)} &&`,
      `    printf '%s' ${quote(sbatchScript)} > ${quote(`${paths.dir}/sbatch.sh`)}`,
      `  } 2>&1 || exit ${SETUP_FAILED}`,
      // The job's code: its pinned tree, linked under the store's shared lock (clean takes it exclusively).
      `  code=${quote(job.codeDir)}`,
      `  { ! command -v flock >/dev/null 2>&1 || flock -s 9; ln -sfn -- "$code" ${quote(`${paths.dir}/code`)} && touch -c -- "$code" && [ -d ${quote(`${paths.dir}/code/`)} ]; } 9>>"\${code%/*}/.lock" ||`,
      '  { echo "the code tree $code is missing (removed by clean meanwhile?); run again"; exit 1; }',
      `  cd ${dir} && sbatch --parsable sbatch.sh 2>&1`,
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
  if (code === SETUP_FAILED) {
    throw new SlurmrayError(`Could not write the job dir on the target, so nothing was submitted:\n${text.trim()}\nCheck that base_dir and its jobs dir are yours and writable.`, EXIT.jobFailed);
  }
  throw new RemoteCommandError("Submitting the job with sbatch", "sbatch --parsable sbatch.sh", code, text);
}
