// A job pins what it was submitted with, checked by the first lines of every remote kind's submit command.
// Its code tree: its dir's `code` link names the tree, made under the code store's shared lock (`clean` takes it
// exclusively), so the store's collection never removes a tree a job uses. Its env: the env dir its python is
// in must still hold the snapshot the job was synced for (the stamp's hash). On a first submission that env was
// synced a moment before; a retry after a node failure comes once the job has left the queue, when nothing kept
// another run from changing its env in place: it is then refused rather than run with other packages.
import { envOfJob, type JobRecord } from "../model/job.js";
import { STAMP_FILE } from "../envsync/stamp.js";
import { EXIT, SlurmrayError } from "../util/errors.js";
import { quote } from "../util/shell.js";

/** The exit code of a submit command whose env no longer holds the job's snapshot. */
export const ENV_CHANGED = 91;

export function pinLines(dir: string, job: Pick<JobRecord, "codeDir" | "python" | "envHash">): string[] {
  const lines = [
    `  code=${quote(job.codeDir)}`,
    `  { ! command -v flock >/dev/null 2>&1 || flock -s 9; ln -sfn -- "$code" ${quote(`${dir}/code`)} && touch -c -- "$code" && [ -d ${quote(`${dir}/code/`)} ]; } 9>>"\${code%/*}/.lock" ||`,
    '  { echo "the code tree $code is missing (removed by clean meanwhile?); run again"; exit 1; }',
  ];
  if (!job.envHash) return lines;
  const envDir = envOfJob(job);
  return [
    ...lines,
    `  grep -q -F ${quote(`"hash":"${job.envHash}"`)} ${quote(`${envDir}/${STAMP_FILE}`)} 2>/dev/null ||`,
    `  { echo ${quote(`the env ${envDir} no longer holds the packages this job was submitted with (another run changed them since): nothing was submitted; run the job again to use the env as it is now`)}; exit ${ENV_CHANGED}; }`,
  ];
}

/** The submit command's refusal for a changed env, as a job failure saying so; null for any other exit. */
export function envChangedError(code: number, output: string): SlurmrayError | null {
  const said = output.split("\n").find((line) => line.startsWith("the env "));
  return code === ENV_CHANGED && said ? new SlurmrayError(said, EXIT.jobFailed) : null;
}
