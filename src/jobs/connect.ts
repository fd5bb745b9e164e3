// Builds the Transport for a target from its configuration: local, OpenSSH (default where an `ssh`
// binary exists) or ssh2. Nothing connects here; the first remote command does.
import { execFileSync } from "node:child_process";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { LoadedConfig } from "../config/load.js";
import type { TargetConfig } from "../config/schema.js";
import type { PasswordProvider } from "../transport/askpass.js";
import { LocalTransport } from "../transport/local.js";
import { OpenSshTransport } from "../transport/openssh.js";
import { Ssh2Transport } from "../transport/ssh2.js";
import type { Transport } from "../transport/types.js";

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

let sshBinary: boolean | undefined;
function hasSshBinary(): boolean {
  if (sshBinary === undefined) {
    try {
      execFileSync("ssh", ["-V"], { stdio: "ignore" });
      sshBinary = true;
    } catch {
      sshBinary = false;
    }
  }
  return sshBinary;
}

export function transportFor(config: LoadedConfig, target: TargetConfig, options: ConnectOptions = {}): Transport {
  if (target.kind === "local") return new LocalTransport();
  const common = {
    host: target.host,
    port: target.port,
    user: target.user ?? config.env["SLURMRAY_USER"],
    identityFile: target.identity_file ? expandHome(target.identity_file, config.root) : undefined,
    knownHostsFile: target.known_hosts ? expandHome(target.known_hosts, config.root) : undefined,
    acceptNewHostKey: options.acceptNewHostKey ?? false,
    interactive: Boolean(process.stdin.isTTY),
    password: options.password,
  };
  const kind = target.transport ?? (hasSshBinary() ? "openssh" : "ssh2");
  if (kind === "ssh2") return new Ssh2Transport(common);
  return new OpenSshTransport({ ...common, sshConfigFile: target.ssh_config ? expandHome(target.ssh_config, config.root) : undefined });
}
