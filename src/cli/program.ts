// The command tree: every command and flag, defined without loading what the commands run (see lazy.ts).
// Shell completion reads this same tree.
import { Command } from "@commander-js/extra-typings";
import { cleanCommand } from "./commands/clean.js";
import { completionCommands } from "./commands/completion.js";
import { dashboardCommand } from "./commands/dashboard.js";
import { doctorCommand } from "./commands/doctor.js";
import { envCommand } from "./commands/env.js";
import { initCommand } from "./commands/init.js";
import { jobCommands } from "./commands/jobs.js";
import { mapCommand } from "./commands/map.js";
import { runCommand } from "./commands/run.js";
import { setVerbosity } from "./output.js";
import { VERSION } from "./version.js";

export function program() {
  const root = new Command("slurmray")
    .description("Run a Python function or script from your project on a Slurm cluster, a shared server or this machine, with the remote virtualenv kept in step.")
    .version(VERSION)
    .option("-q, --quiet", "print errors only (no progress, no notes)")
    .option("-v, --verbose", "also print every remote command with its duration")
    .showHelpAfterError()
    .exitOverride()
    .hook("preAction", async (command) => {
      const { quiet, verbose } = command.opts();
      await setVerbosity(quiet ? "quiet" : verbose ? "verbose" : "normal");
    });
  for (const command of [runCommand(), mapCommand(), ...jobCommands(), dashboardCommand(), envCommand(), doctorCommand(), cleanCommand(), initCommand(), ...completionCommands()]) {
    root.addCommand(command.exitOverride(), command.name() === "__complete" ? { hidden: true } : {});
  }
  return root;
}
