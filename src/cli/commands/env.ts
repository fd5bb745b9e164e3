// slurmray env diff / env sync: show or apply what the target's env needs to match the local one.
import { Command } from "@commander-js/extra-typings";
import pc from "picocolors";
import { loadConfig } from "../../config/load.js";
import type { SkippedDistribution } from "../../envsync/parity.js";
import { targetName } from "../flags.js";
import { interruptSignal } from "../interrupt.js";
import { jobsLayer } from "../lazy.js";
import { info, printJson, table, warn } from "../output.js";
import { passwordProvider } from "../password.js";
import { progressFor } from "../progress.js";

const ACTION_COLOR: Record<string, (s: string) => string> = { install: pc.green, upgrade: pc.cyan, downgrade: pc.yellow, remove: pc.red, extra: pc.magenta };

/** The local distributions the remote env cannot hold, one line each, with why. */
function printSkipped(skipped: readonly SkippedDistribution[]): void {
  if (skipped.length === 0) return;
  info(`${skipped.length} local package(s) cannot exist on the target and are left out:`);
  for (const s of skipped) info(`  ${s.name}${s.version ? ` ${s.version}` : ""}: ${s.reason}`);
}

export function envCommand() {
  const diff = new Command("diff")
    .description("show what the target's env would install, upgrade, downgrade or keep, and why; changes nothing")
    .option("--target <name>", "target from slurmray.toml", targetName)
    .option("--accept-new-host-key", "record the host key of a host seen for the first time")
    .option("--json", "print one JSON object")
    .action(async (options) => {
      const config = loadConfig(process.cwd());
      const { envDiff } = await jobsLayer(() => import("../../jobs/env.js"));
      const out = await envDiff(config, options.target, { acceptNewHostKey: options.acceptNewHostKey, password: passwordProvider(config.env) });
      for (const w of out.warnings) warn(w);
      const { missing, plan, skipped } = out.result;
      if (options.json) return printJson({ target: out.target, env_dir: out.env_dir, missing, plan: plan.entries, skipped });
      const unchanged = plan.entries.filter((e) => e.action === "keep").length;
      info(`${out.env_dir} on ${out.target}: ${missing ? "does not exist yet" : `${unchanged} package(s) unchanged`}`);
      // Changes, then what the remote holds beyond the snapshot ("extra": --exact removes it).
      const shown = plan.entries.filter((e) => e.action !== "keep" && e.action !== "skip-marker");
      if (shown.length > 0) {
        const rows = shown.map((e) => [e.action, e.name, e.from ?? "-", e.to ?? "-", e.reason]);
        process.stdout.write(`${table(["ACTION", "PACKAGE", "REMOTE", "WANTED", "WHY"], rows, (c, cell) => (c === 0 ? (ACTION_COLOR[cell] ?? pc.dim)(cell) : cell))}\n`);
      }
      printSkipped(skipped);
      const changes = shown.filter((e) => !e.action.startsWith("extra")).length;
      const extras = shown.length - changes;
      if (changes === 0) info(`nothing to install or remove${extras > 0 ? `; the target also holds ${extras} package(s) beyond your local environment (above)` : ""}`);
    });

  const sync = new Command("sync")
    .description("bring the target's env in step with your local environment, installing only what differs")
    .option("--target <name>", "target from slurmray.toml", targetName)
    .option("--force-reinstall", "rebuild the env from scratch")
    .option("--exact", "also remove what the target holds beyond your local environment, with the dependencies only it needed (whatever the stamp says)")
    .option("--accept-new-host-key", "record the host key of a host seen for the first time")
    .option("--json", "print one JSON object")
    .action(async (options) => {
      const config = loadConfig(process.cwd());
      const { envSync } = await jobsLayer(() => import("../../jobs/env.js"));
      const progress = await progressFor();
      progress.start(`env sync on ${options.target ?? config.defaultTarget}`);
      const out = await envSync(
        config,
        options.target,
        {
          forceReinstall: options.forceReinstall ?? false,
          exact: options.exact ?? false,
          signal: interruptSignal(),
          onInstallProgress: (text) => progress.update(`env sync: ${text}`),
        },
        { acceptNewHostKey: options.acceptNewHostKey, password: passwordProvider(config.env) },
      ).finally(() => progress.stop());
      for (const w of out.warnings) warn(w);
      const r = out.result;
      if (options.json) {
        const { plan: _plan, ...fields } = r;
        return printJson({ target: out.target, env_dir: out.env_dir, ...fields });
      }
      const what = r.installed.length + r.changed.length + r.removed.length === 0 ? "already in step, nothing installed" : `${r.installed.length} installed, ${r.changed.length} changed, ${r.removed.length} removed`;
      info(`${out.env_dir} on ${out.target}: ${r.created ? "created; " : ""}${what} (${r.seconds.toFixed(1)} s)`);
      printSkipped(r.skipped);
    });

  return new Command("env").description("the target's virtualenv").addCommand(diff.exitOverride()).addCommand(sync.exitOverride());
}
