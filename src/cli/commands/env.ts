// slurmray env diff / env sync: show or apply what the target's env needs to match the local one.
import { Command } from "@commander-js/extra-typings";
import pc from "picocolors";
import { loadConfig } from "../../config/load.js";
import { targetName } from "../flags.js";
import { interruptSignal } from "../interrupt.js";
import { jobsLayer } from "../lazy.js";
import { info, printJson, table, warn } from "../output.js";
import { passwordProvider } from "../password.js";
import { progressFor } from "../progress.js";

const ACTION_COLOR: Record<string, (s: string) => string> = { install: pc.green, upgrade: pc.cyan, downgrade: pc.yellow, remove: pc.red };

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
      if (options.json) return printJson({ target: out.target, env_dir: out.env_dir, missing: out.result.missing, plan: out.result.plan.entries });
      const changes = out.result.plan.entries.filter((e) => e.action !== "keep");
      info(`${out.env_dir} on ${out.target}: ${out.result.missing ? "does not exist yet" : `${out.result.plan.entries.length - changes.length} package(s) unchanged`}`);
      if (changes.length === 0) return info("nothing to do: the env matches your local environment");
      const rows = changes.map((e) => [e.action, e.name, e.from ?? "-", e.to ?? "-", e.reason]);
      process.stdout.write(`${table(["ACTION", "PACKAGE", "REMOTE", "WANTED", "WHY"], rows, (c, cell) => (c === 0 ? (ACTION_COLOR[cell] ?? pc.dim)(cell) : cell))}\n`);
    });

  const sync = new Command("sync")
    .description("bring the target's env in step with your local environment, installing only what differs")
    .option("--target <name>", "target from slurmray.toml", targetName)
    .option("--force-reinstall", "rebuild the env from scratch")
    .option("--exact", "also remove packages that are not in your local environment")
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
        { forceReinstall: options.forceReinstall ?? false, exact: options.exact ?? false, signal: interruptSignal() },
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
    });

  return new Command("env").description("the target's virtualenv").addCommand(diff.exitOverride()).addCommand(sync.exitOverride());
}
