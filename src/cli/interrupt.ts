// Ctrl-C handling: the first SIGINT aborts the run (the job is cancelled and we exit 130); a second one
// exits at once.
import { EXIT } from "../util/errors.js";

export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write("\nslurmray: interrupted, cancelling the job (Ctrl-C again to leave at once)\n");
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return controller.signal;
}
