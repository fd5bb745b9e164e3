// Builds the Transport for a target from its configuration: local, OpenSSH (default where an `ssh`
// binary exists) or ssh2 (createTransport picks). Nothing connects here; the first remote command does.
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { LoadedConfig } from "../config/load.js";
import type { TargetConfig } from "../config/schema.js";
import { isRemoteTarget } from "../config/target.js";
import { createTransport, LocalTransport, type PasswordProvider, type Transport } from "../transport/index.js";

export interface ConnectOptions {
  acceptNewHostKey?: boolean;
  /** Answers password / MFA prompts (the CLI passes SLURMRAY_PASSWORD or a terminal prompt). */
  password?: PasswordProvider;
}

function expandHome(path: string, root: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(root, path);
}

export function transportFor(config: LoadedConfig, target: TargetConfig, options: ConnectOptions = {}): Transport {
  if (!isRemoteTarget(target)) return new LocalTransport();
  return createTransport({
    kind: "ssh",
    implementation: target.transport ?? "auto",
    host: target.host,
    port: target.port,
    user: target.user ?? config.env["SLURMRAY_USER"],
    identityFile: target.identity_file ? expandHome(target.identity_file, config.root) : undefined,
    knownHostsFile: target.known_hosts ? expandHome(target.known_hosts, config.root) : undefined,
    sshConfigFile: target.ssh_config ? expandHome(target.ssh_config, config.root) : undefined,
    acceptNewHostKey: options.acceptNewHostKey ?? false,
    interactive: Boolean(process.stdin.isTTY),
    password: options.password,
  });
}
