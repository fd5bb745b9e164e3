// The local transport: the Transport interface on this machine. Commands go through `sh -c` with the
// same quoting as remote ones, so the local target exercises exactly the code paths a remote one does.
import { homedir } from "node:os";
import { CommandTransport } from "./base.js";
import { spawnCommand } from "./process.js";
import type { RunningCommand } from "./running.js";
import type { Forward } from "./types.js";

export class LocalTransport extends CommandTransport {
  readonly kind = "local" as const;
  readonly description = "local";

  async connect(): Promise<void> {}

  protected async startCommand(command: string): Promise<RunningCommand> {
    // Remote commands start in the home directory; so do local ones.
    return spawnCommand("sh", ["-c", command], { cwd: homedir() });
  }

  /** Local ports need no forwarding: the same port is returned. */
  async forward(_remoteHost: string, remotePort: number): Promise<Forward> {
    return { localPort: remotePort, close: async () => {} };
  }
}
