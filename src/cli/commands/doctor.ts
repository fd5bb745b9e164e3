// slurmray doctor [--target X] [--json]: one line per check, ✓ / ⚠ / ✗ with the fix, or one JSON object.
// Exit 0 when nothing failed (warnings allowed), 1 when a check failed, 3 when the connection failed.
import { Command } from "@commander-js/extra-typings";
import pc from "picocolors";
import { loadConfig } from "../../config/load.js";
import { isRemoteTarget, resolveTarget } from "../../config/target.js";
import type { Check, Diagnosis } from "../../doctor/checks.js";
import { EXIT } from "../../util/errors.js";
import { targetName } from "../flags.js";
import { jobsLayer } from "../lazy.js";
import { passwordProvider } from "../password.js";
import { progressFor } from "../progress.js";

const MARKS: Record<Check["status"], string> = { ok: pc.green("✓"), warn: pc.yellow("⚠"), fail: pc.red("✗") };

function printText(diagnosis: Diagnosis): void {
  for (const check of diagnosis.checks) {
    const fix = check.status !== "ok" && check.fix ? `\n    fix: ${check.fix}` : "";
    process.stdout.write(`${MARKS[check.status]} ${check.name}: ${check.detail}${fix}\n`);
  }
}

function printJson(target: string, diagnosis: Diagnosis): void {
  const checks = diagnosis.checks.map((check) => ({ name: check.name, status: check.status, detail: check.detail, fix: check.status === "ok" ? null : (check.fix ?? null) }));
  process.stdout.write(`${JSON.stringify({ target, exit_code: diagnosis.exitCode, checks })}\n`);
}

export function doctorCommand() {
  return new Command("doctor")
    .description("check that a target is ready: connection, host key, Python, uv, package index, Slurm, disk")
    .option("--target <name>", "target from slurmray.toml", targetName)
    .option("--accept-new-host-key", "record the host key of a host seen for the first time (like ssh's accept-new)")
    .option("--json", "print one JSON object: {target, exit_code, checks: [{name, status (ok|warn|fail), detail, fix}]}")
    .action(async (options) => {
      const config = loadConfig(process.cwd());
      const target = resolveTarget(config, options.target);
      let diagnosis: Diagnosis;
      if (!isRemoteTarget(target.config)) {
        const local: Check = { name: "local target", status: "ok", detail: "runs on this machine, nothing to check remotely" };
        diagnosis = { checks: [local], exitCode: EXIT.ok };
      } else {
        const [{ diagnose }, { transportFor }, { remoteBaseDir }, { localPythonVersion }] = await jobsLayer(() =>
          Promise.all([import("../../doctor/checks.js"), import("../../jobs/connect.js"), import("../../jobs/remote-paths.js"), import("../../jobs/python-version.js")]),
        );
        const transport = transportFor(config, target.config, { acceptNewHostKey: options.acceptNewHostKey, password: passwordProvider(config.env) });
        const progress = await progressFor();
        progress.start(`checking ${target.name} (${transport.description})`);
        diagnosis = await diagnose(target.config, transport, remoteBaseDir(target.config), await localPythonVersion(config)).finally(() => progress.stop());
        await transport.close();
      }
      if (options.json) printJson(target.name, diagnosis);
      else printText(diagnosis);
      process.exitCode = diagnosis.exitCode;
    });
}
