// A reader that goes away (`slurmray jobs --json | head -c 100`, `slurmray logs -f J | grep -m1 loss`) is not
// a failure of slurmray's. Node ignores SIGPIPE, so each later write fails with EPIPE, which would otherwise
// crash the command with a stack trace. Stdout is what the command is for: with its reader gone, the command
// ends as other tools end on SIGPIPE (exit 141), after closing its connections; a job it watched goes on and
// stays in `slurmray jobs`. Stderr carries only human text: without a reader, the command goes on without it.
import { EXIT } from "../util/errors.js";

const isBrokenPipe = (error: NodeJS.ErrnoException): boolean => error.code === "EPIPE";

export function endOnBrokenPipe(closeSessions: () => Promise<void>): void {
  let ending = false;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (!isBrokenPipe(error)) throw error;
    if (ending) return;
    ending = true;
    void closeSessions().finally(() => process.exit(EXIT.brokenPipe));
  });
  process.stderr.on("error", (error: NodeJS.ErrnoException) => {
    if (!isBrokenPipe(error)) throw error;
  });
}
