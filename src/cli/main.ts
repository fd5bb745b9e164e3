#!/usr/bin/env node
// The slurmray command line. Parsing and printing only: the work is done by the jobs layer.
import { Command, CommanderError } from "@commander-js/extra-typings";
import pc from "picocolors";
import { closeSessions } from "../jobs/session.js";
import { EXIT, SlurmrayError } from "../util/errors.js";
import { cleanCommand } from "./commands/clean.js";
import { doctorCommand } from "./commands/doctor.js";
import { envCommand } from "./commands/env.js";
import { initCommand } from "./commands/init.js";
import { jobCommands } from "./commands/jobs.js";
import { runCommand } from "./commands/run.js";

function program() {
  const root = new Command("slurmray")
    .description("Run a Python function from your project on a Slurm cluster, a shared server, or this machine.")
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  for (const command of [runCommand(), ...jobCommands(), envCommand(), doctorCommand(), cleanCommand(), initCommand()]) {
    root.addCommand(command.exitOverride());
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
    process.stderr.write(`${pc.red("error")} ${message}\n`);
    if (wantsJson(argv)) {
      process.stdout.write(`${JSON.stringify({ error: { type: error instanceof Error ? error.name : "Error", message }, exit_code: code })}\n`);
    }
    return code;
  } finally {
    await closeSessions();
  }
}

process.exitCode = await main(process.argv);
