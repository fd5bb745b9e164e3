#!/usr/bin/env node
// The slurmray command line. Parsing and printing only: the work is done by the jobs layer, which each command
// loads when it runs (see lazy.ts), so `--version`, `status` and `jobs` start at once.
import { Command, CommanderError } from "@commander-js/extra-typings";
import pc from "picocolors";
import { EXIT, InterruptedError, SlurmrayError } from "../util/errors.js";
import { cleanCommand } from "./commands/clean.js";
import { completionCommands } from "./commands/completion.js";
import { doctorCommand } from "./commands/doctor.js";
import { envCommand } from "./commands/env.js";
import { initCommand } from "./commands/init.js";
import { jobCommands } from "./commands/jobs.js";
import { runCommand } from "./commands/run.js";
import { closeOpenedSessions } from "./lazy.js";
import { info, setVerbosity } from "./output.js";
import { VERSION } from "./version.js";

function program() {
  const root = new Command("slurmray")
    .description("Run a Python function or script from your project on a Slurm cluster or on this machine, with the remote virtualenv kept in step.")
    .version(VERSION)
    .option("-q, --quiet", "print errors only (no progress, no notes)")
    .option("-v, --verbose", "also print every remote command with its duration")
    .showHelpAfterError()
    .exitOverride()
    .hook("preAction", async (command) => {
      const { quiet, verbose } = command.opts();
      await setVerbosity(quiet ? "quiet" : verbose ? "verbose" : "normal");
    });
  for (const command of [runCommand(), ...jobCommands(), envCommand(), doctorCommand(), cleanCommand(), initCommand(), ...completionCommands()]) {
    root.addCommand(command.exitOverride(), command.name() === "__complete" ? { hidden: true } : {});
  }
  return root;
}

function wantsJson(argv: readonly string[]): boolean {
  return argv.includes("--json");
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end here with code 0; every other parse problem is bad input.
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    const code = error instanceof SlurmrayError ? error.exitCode : EXIT.jobFailed;
    const message = error instanceof SlurmrayError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    // An interruption is what the user asked for: said once, as a note, not as an error.
    if (error instanceof InterruptedError) info(message);
    else process.stderr.write(`${pc.red("error")} ${message}\n`);
    if (wantsJson(argv)) {
      process.stdout.write(`${JSON.stringify({ error: { type: error instanceof Error ? error.name : "Error", message }, exit_code: code })}\n`);
    }
    return code;
  } finally {
    await closeOpenedSessions();
  }
}

process.exitCode = await main(process.argv);
