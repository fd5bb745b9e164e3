#!/usr/bin/env node
// The slurmray command line. Parsing and printing only: the work is done by the jobs layer, which each command
// loads when it runs (see lazy.ts), so `--version`, `status` and `jobs` start at once.
import { CommanderError } from "@commander-js/extra-typings";
import pc from "picocolors";
import { EXIT, InterruptedError, SlurmrayError } from "../util/errors.js";
import { endOnBrokenPipe } from "./broken-pipe.js";
import { closeOpenedSessions } from "./lazy.js";
import { info } from "./output.js";
import { program } from "./program.js";

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

endOnBrokenPipe(closeOpenedSessions);
process.exitCode = await main(process.argv);
