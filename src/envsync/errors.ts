// Errors of the environment engine that are not bad input: the remote could not be brought in step.
import { EXIT, SlurmrayError } from "../util/errors.js";

export type EnvSyncFailure = "package" | "disk" | "network" | "python" | "other";

/** Installing into the remote env failed. The stamp was removed first, so the next sync starts over. */
export class EnvSyncError extends SlurmrayError {
  readonly failure: EnvSyncFailure;
  /** The packages the installer named as the cause (for "package"). */
  readonly packages: string[];
  readonly stderr: string;
  constructor(failure: EnvSyncFailure, message: string, stderr: string, packages: string[] = []) {
    super(message, EXIT.jobFailed);
    this.failure = failure;
    this.packages = packages;
    this.stderr = stderr;
  }
}
