// slurmray init: writes a commented slurmray.toml with the local target and examples of the other kinds.
import { Command } from "@commander-js/extra-typings";
import { existsSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { CONFIG_FILE, findProjectRoot } from "../../config/load.js";
import { InputError } from "../../util/errors.js";
import { info } from "../output.js";

export function configTemplate(projectName: string): string {
  return `# slurmray configuration. Every key is optional; run \`slurmray doctor --target NAME\` to check a target.

[project]
# name = "${projectName}"${" ".repeat(Math.max(1, 20 - projectName.length))}# remote id; default: the folder name plus a hash of this host and path,
#                              # so clones never share remote job folders or envs. Set it to share them.
default_target = "local"       # "local" runs on this machine; change to "cluster" once it works
# python = "3.11"              # default: the project interpreter's major.minor
# exclude = ["results/"]       # files and packages never shipped
# files = ["data/config.yaml"] # extra files outside the usual selection (.gitignore rules)
# strict_versions = true       # pin the remote packages to your local versions
# retention_days = 7           # remote job folders older than this are removed

[targets.local]
kind = "local"

# A Slurm cluster behind an SSH login node.
# [targets.cluster]
# kind = "slurm"
# host = "login.cluster.example"   # a hostname or an alias from ~/.ssh/config
# user = "alice"
# identity_file = "~/.ssh/id_ed25519"
# partition = "cpu"
# modules = ["python/3.11"]
# defaults = { cpus = 4, mem = 16, time = 60 }

# A shared server without a scheduler: slurmray queues jobs fairly between its users. An admin makes the
# queue dir once: sudo install -d -m 1777 -o root -g root /tmp/slurmray-queue
# [targets.gpu-box]
# kind = "server"
# host = "gpu-box.example"
# limits = { cpus = 32, mem = 256, gpus = [0, 1] }
`;
}

export function initCommand() {
  return new Command("init").description(`write a commented ${CONFIG_FILE} in the project root`).action(() => {
    const root = findProjectRoot(process.cwd());
    const path = join(root, CONFIG_FILE);
    if (existsSync(path)) throw new InputError(`${path} already exists; edit it, or remove it first to start over`);
    writeFileSync(path, configTemplate(basename(root).replace(/[^A-Za-z0-9._-]/g, "-")));
    info(`wrote ${path}`);
  });
}
