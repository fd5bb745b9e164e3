// slurmray doctor [--target X]: one line per check, ✓ or ✗ with the fix.
import { Command } from "@commander-js/extra-typings";
import pc from "picocolors";
import { loadConfig } from "../../config/load.js";
import { resolveTarget } from "../../config/target.js";
import { EXIT } from "../../util/errors.js";
import { targetName } from "../flags.js";
import { jobsLayer } from "../lazy.js";
import { passwordProvider } from "../password.js";
import { progressFor } from "../progress.js";

export function doctorCommand() {
  return new Command("doctor")
    .description("check that a target is ready: connection, host key, Python, uv, Slurm, disk")
    .option("--target <name>", "target from slurmray.toml", targetName)
    .option("--accept-new-host-key", "record the host key of a host seen for the first time (like ssh's accept-new)")
    .action(async (options) => {
      const config = loadConfig(process.cwd());
      const target = resolveTarget(config, options.target);
      if (target.config.kind === "local") {
        process.stdout.write(`${pc.green("✓")} local target: runs on this machine, nothing to check remotely\n`);
        return;
      }
      const [{ diagnose }, { transportFor }, { remoteBaseDir }, { localPythonVersion }] = await jobsLayer(() =>
        Promise.all([import("../../doctor/checks.js"), import("../../jobs/connect.js"), import("../../jobs/remote-paths.js"), import("../../jobs/python-version.js")]),
      );
      const transport = transportFor(config, target.config, { acceptNewHostKey: options.acceptNewHostKey, password: passwordProvider(config.env) });
      const progress = await progressFor();
      progress.start(`checking ${target.name} (${transport.description})`);
      const checks = await diagnose(target.config, transport, remoteBaseDir(target.config), await localPythonVersion(config)).finally(() => progress.stop());
      await transport.close();
      for (const check of checks) {
        const mark = check.ok ? pc.green("✓") : pc.red("✗");
        process.stdout.write(`${mark} ${check.name}: ${check.detail}${check.ok || !check.fix ? "" : `\n    fix: ${check.fix}`}\n`);
      }
      if (checks.some((check) => !check.ok)) process.exitCode = EXIT.jobFailed;
    });
}
