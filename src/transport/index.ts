// The transport layer's entry point: pick and build the right Transport for a target.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { PasswordProvider } from "./askpass.js";
import { LocalTransport } from "./local.js";
import { type OpenSshOptions, OpenSshTransport } from "./openssh.js";
import { Ssh2Transport } from "./ssh2.js";
import type { Transport } from "./types.js";

export type { PasswordProvider } from "./askpass.js";
export { downloadFiles, readRemoteFile, uploadFiles } from "./files.js";
export { LocalTransport } from "./local.js";
export { type OpenSshOptions, OpenSshTransport } from "./openssh.js";
export type { SshTransportOptions } from "./options.js";
export { Ssh2Transport } from "./ssh2.js";
export type * from "./types.js";

/** "auto": OpenSSH where an `ssh` binary is on PATH, else ssh2. */
export type SshImplementation = "auto" | "openssh" | "ssh2";

export type CreateTransportOptions = { kind: "local" } | ({ kind: "ssh"; implementation?: SshImplementation } & OpenSshOptions);

/** True when an executable `name` is on PATH. */
export function onPath(name: string, path = process.env.PATH ?? ""): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** SLURMRAY_PASSWORD as a password provider, when it is set. */
export function passwordFromEnv(env: NodeJS.ProcessEnv = process.env): PasswordProvider | undefined {
  const secret = env.SLURMRAY_PASSWORD;
  return secret ? async () => secret : undefined;
}

export function createTransport(options: CreateTransportOptions): Transport {
  if (options.kind === "local") return new LocalTransport();
  const { kind: _kind, implementation = "auto", ...ssh } = options;
  const withPassword = { ...ssh, password: ssh.password ?? passwordFromEnv() };
  const useOpenSsh = implementation === "openssh" || (implementation === "auto" && onPath("ssh"));
  return useOpenSsh ? new OpenSshTransport(withPassword) : new Ssh2Transport(withPassword);
}
