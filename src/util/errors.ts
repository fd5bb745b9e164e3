// Typed errors. Each carries the exit code the CLI uses (DESIGN.md, "Exit codes"), and a message
// written for a researcher: what went wrong and what to do about it.

export const EXIT = {
  ok: 0,
  jobFailed: 1,
  badInput: 2,
  connection: 3,
  interrupted: 130,
  /** The reader of stdout went away (`slurmray jobs | head`): 128 + SIGPIPE, as other tools end. */
  brokenPipe: 141,
} as const;

export class SlurmrayError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad flags, config, entries, requirement lines: nothing was sent. Exit code 2. */
export class InputError extends SlurmrayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.badInput, options);
  }
}

/** A configuration problem, naming the key, the bad value and what is allowed. Exit code 2. */
export class ConfigError extends InputError {
  readonly key: string;
  constructor(key: string, message: string) {
    super(key ? `${key}: ${message}` : message);
    this.key = key;
  }
}

/** Could not reach or authenticate to a target. Exit code 3. */
export class ConnectionError extends SlurmrayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.connection, options);
  }
}

/** A host key was unknown or changed. Exit code 3. */
export class HostKeyError extends ConnectionError {}

/** A remote command exited non-zero where success was required. Carries the command, exit code and stderr. */
export class RemoteCommandError extends SlurmrayError {
  readonly command: string;
  readonly code: number;
  readonly stderr: string;
  constructor(what: string, command: string, code: number, stderr: string) {
    const tail = stderr.trim().split("\n").slice(-20).join("\n");
    super(`${what} failed (exit code ${code})${tail ? `:\n${tail}` : ""}`, EXIT.jobFailed);
    this.command = command;
    this.code = code;
    this.stderr = stderr;
  }
}

/** The user's job failed; the message carries the remote Python error. Exit code 1. */
export class JobFailedError extends SlurmrayError {
  constructor(message: string) {
    super(message, EXIT.jobFailed);
  }
}

/** A job's files are no longer on the target: its folder was removed or changed there. Exit code 1. */
export class JobFilesGoneError extends SlurmrayError {
  /** `missing`: what is not there, as "job J: its log is not in DIR". */
  constructor(missing: string) {
    super(`${missing} on the target: the job's folder was removed there (slurmray clean, retention_days, or the site purging old files) or changed`, EXIT.jobFailed);
  }
}

/** The run was interrupted (Ctrl-C). Exit code 130. */
export class InterruptedError extends SlurmrayError {
  constructor(message = "Interrupted") {
    super(message, EXIT.interrupted);
  }
}
