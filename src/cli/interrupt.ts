// Ctrl-C handling: the first SIGINT aborts what the command is doing (the command then says once what became
// of the job); a second one exits at once.
import { EXIT } from "../util/errors.js";
import { info } from "./output.js";

/** `note`: what the first Ctrl-C starts, said at once when the abort takes a moment (run's cancel). */
export function interruptSignal(note?: string): AbortSignal {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    if (note) info(`${note} (Ctrl-C again to leave at once)`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return controller.signal;
}
