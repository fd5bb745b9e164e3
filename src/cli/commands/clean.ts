// slurmray clean [--target X] [--older-than DAYS]: remove old job folders and report the space freed.
import { Command } from "@commander-js/extra-typings";
import { loadConfig } from "../../config/load.js";
import { targetName, wholeNumber } from "../flags.js";
import { jobsLayer } from "../lazy.js";
import { info, printJson } from "../output.js";
import { passwordProvider } from "../password.js";

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function cleanCommand() {
  return new Command("clean")
    .description("remove job folders older than retention_days (default 7) and envs no job uses from a target; running jobs are kept")
    .option("--target <name>", "target from slurmray.toml", targetName)
    .option("--older-than <days>", "age in days instead of retention_days", wholeNumber("--older-than", { min: 0, max: 3650 }))
    .option("--accept-new-host-key", "record the host key of a host seen for the first time")
    .option("--json", "print one JSON object")
    .action(async (options) => {
      const config = loadConfig(process.cwd());
      const { cleanTarget } = await jobsLayer(() => import("../../jobs/clean.js"));
      const r = await cleanTarget(config, options.target, options.olderThan, { acceptNewHostKey: options.acceptNewHostKey, password: passwordProvider(config.env) });
      if (options.json) return printJson({ target: r.target, removed: r.removed, trees_removed: r.treesRemoved, objects_removed: r.objectsRemoved, bytes_freed: r.bytesFreed, envs_removed: r.envsRemoved });
      info(`${r.target}: removed ${r.removed.length} job folder(s), ${r.treesRemoved} unused code tree(s) and ${r.objectsRemoved} object(s), freed ${megabytes(r.bytesFreed)}; removed ${r.envsRemoved.length} env(s) no job uses`);
    });
}
