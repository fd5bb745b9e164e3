// Slurm job ids: digits, or digits_N for an array element. An id comes from a local record or from
// Slurm's own output, and goes into remote commands: it is checked here before any command is built.
import { InputError } from "../../util/errors.js";

export const SLURM_JOB_ID = /^\d+(_\d+)?$/;

/** The id itself, or an InputError when it is not a Slurm job id (a tampered record). */
export function checkSlurmJobId(id: string): string {
  if (!SLURM_JOB_ID.test(id)) {
    throw new InputError(`${JSON.stringify(id)} is not a Slurm job id (digits, or digits_N for an array element): its record in .slurmray/jobs/ was changed; delete that record`);
  }
  return id;
}
