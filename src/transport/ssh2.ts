// The fallback transport (no `ssh` binary, or `transport = "ssh2"`): the same interface on the ssh2
// package. One connection, one channel per command; host keys checked against known_hosts like OpenSSH.
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { constants, homedir, userInfo } from "node:os";
import { join } from "node:path";
import type { AnyAuthMethod, AuthenticationType, Client, ClientChannel } from "ssh2";
import { ConnectionError, type HostKeyError } from "../util/errors.js";
import { CommandTransport } from "./base.js";
import { appendHostKey, checkHostKey, fingerprint, hostKeyName, keyType, readKnownHosts } from "./known-hosts.js";
import { authenticationFailed, changedHostKey, connectionFailed, connectionLost, unknownHostKey } from "./messages.js";
import { CONNECT_TIMEOUT, describeTarget, KEEPALIVE_COUNT_MAX, KEEPALIVE_INTERVAL, type SshTransportOptions } from "./options.js";
import { underPosixShell } from "./remote-command.js";
import type { RunningCommand } from "./running.js";
import type { Forward } from "./types.js";

const DEFAULT_KEYS = ["id_ed25519", "id_ecdsa", "id_rsa"];

interface ChannelInternals {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal(id: number, name: string): void } };
}

/**
 * Sends a "signal" request (sshd kills the command's process group). ssh2's channel.signal() refuses once
 * our side of the channel has ended (stdin closed), which is almost always, so the request is sent directly.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const internals = channel as unknown as ChannelInternals;
  const id = internals.outgoing?.id;
  if (id === undefined || internals.outgoing?.state === "closed") return;
  internals._client?._protocol?.signal(id, name);
}

export class Ssh2Transport extends CommandTransport {
  readonly kind = "ssh2" as const;
  readonly description: string;
  readonly #options: SshTransportOptions;
  readonly #user: string;
  readonly #port: number;
  #client: Client | undefined;
  #connecting: Promise<void> | undefined;

  constructor(options: SshTransportOptions) {
    super();
    this.#options = options;
    this.#user = options.user ?? userInfo().username;
    this.#port = options.port ?? 22;
    this.description = describeTarget(this.#user, options.host, this.#port);
  }

  #userKnownHosts(): string {
    return join(homedir(), ".ssh", "known_hosts");
  }

  /** Checks the server's key; returns the error to refuse it with, or null to accept. */
  #verifyHostKey(key: Buffer): HostKeyError | null {
    const o = this.#options;
    const name = hostKeyName(o.host, this.#port);
    const files = [this.#userKnownHosts(), ...(o.knownHostsFile ? [o.knownHostsFile] : [])];
    const status = checkHostKey(readKnownHosts(files), name, key);
    const shown = `${fingerprint(key)} (${keyType(key)})`;
    if (status === "known") return null;
    if (status === "changed" || status === "revoked") return changedHostKey(name, shown);
    if (!o.acceptNewHostKey) return unknownHostKey(name, [shown]);
    appendHostKey(o.knownHostsFile ?? this.#userKnownHosts(), name, key);
    return null;
  }

  /** Authentication methods in order: key, agent, password, keyboard-interactive (secrets fetched only if reached). */
  #authMethods(): Array<() => Promise<AnyAuthMethod | null>> {
    const o = this.#options;
    const username = this.#user;
    const keyFiles = o.identityFile
      ? [o.identityFile]
      : DEFAULT_KEYS.map((k) => join(homedir(), ".ssh", k)).filter((f) => existsSync(f));
    const methods: Array<() => Promise<AnyAuthMethod | null>> = keyFiles.map((file) => async () => {
      try {
        return { type: "publickey", username, key: readFileSync(file) };
      } catch {
        return null;
      }
    });
    const agent = process.env.SSH_AUTH_SOCK;
    if (agent) methods.push(async () => ({ type: "agent", username, agent }));
    const password = o.password;
    if (password) {
      methods.push(async () => ({ type: "password", username, password: await password(`${username}@${o.host}'s password:`) }));
      methods.push(async () => ({
        type: "keyboard-interactive",
        username,
        prompt: (_name, _instructions, _lang, prompts, finish) => {
          Promise.all(prompts.map((p) => password(p.prompt))).then(finish, () => finish([]));
        },
      }));
    }
    return methods;
  }

  connect(): Promise<void> {
    this.#connecting ??= this.#open().catch((error) => {
      this.#connecting = undefined;
      throw error;
    });
    return this.#connecting;
  }

  async #open(): Promise<void> {
    const o = this.#options;
    // ssh2 is the fallback transport: loaded only when a connection is made with it (it costs ~60 ms at start).
    const { Client } = await import("ssh2");
    const client = new Client();
    const methods = this.#authMethods();
    let hostKeyError: HostKeyError | null = null;
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => {
        this.#client = client;
        client.on("close", () => {
          if (this.#client === client) {
            this.#client = undefined;
            this.#connecting = undefined;
          }
        });
        resolve();
      });
      client.once("error", (error: Error & { level?: string }) => {
        client.end();
        if (hostKeyError) reject(hostKeyError);
        else if (error.level === "client-authentication") reject(authenticationFailed(this.#user, this.description));
        else reject(connectionFailed(this.description, error.message));
      });
      client.on("error", () => {});
      const nextMethod = async (allowed: AuthenticationType[] | null): Promise<AnyAuthMethod | false> => {
        for (let method = methods.shift(); method; method = methods.shift()) {
          const auth = await method().catch(() => null);
          if (auth && (!allowed || allowed.includes(auth.type))) return auth;
        }
        return false;
      };
      client.connect({
        host: o.host,
        port: this.#port,
        username: this.#user,
        readyTimeout: (o.connectTimeout ?? CONNECT_TIMEOUT) * 1000,
        keepaliveInterval: (o.keepaliveInterval ?? KEEPALIVE_INTERVAL) * 1000,
        keepaliveCountMax: o.keepaliveCountMax ?? KEEPALIVE_COUNT_MAX,
        hostVerifier: (key: Buffer) => {
          hostKeyError = this.#verifyHostKey(key);
          return hostKeyError === null;
        },
        authHandler: (allowed, _partial, next) => {
          // ssh2 accepts `false` (no more methods) at runtime; its type definitions omit it.
          nextMethod(allowed).then((method) => next(method as AnyAuthMethod));
        },
      });
    });
  }

  async #connected(): Promise<Client> {
    await this.connect();
    if (!this.#client) throw connectionLost(this.description);
    return this.#client;
  }

  protected async startCommand(command: string): Promise<RunningCommand> {
    const client = await this.#connected();
    return new Promise<RunningCommand>((resolve, reject) =>
      client.exec(underPosixShell(command), (error, channel) =>
        // Wrapped synchronously: the exit status may arrive in the same packet batch as the channel itself.
        error ? reject(connectionFailed(this.description, error.message)) : resolve(this.#wrap(channel)),
      ),
    );
  }

  #wrap(channel: ClientChannel): RunningCommand {
    const finished = new Promise<number>((resolve, reject) => {
      let exit: number | undefined;
      channel.on("exit", (code: number | null, signal?: string) => {
        exit = code ?? 128 + (constants.signals[`SIG${signal}` as NodeJS.Signals] ?? 0);
      });
      // No exit status when the channel closes means the connection went away under it.
      channel.on("close", () => (exit === undefined ? reject(connectionLost(this.description)) : resolve(exit)));
    });
    return {
      stdin: channel,
      stdout: channel,
      stderr: channel.stderr,
      finished,
      kill: () => {
        sendSignal(channel, "KILL");
        channel.close();
      },
    };
  }

  async forward(remoteHost: string, remotePort: number): Promise<Forward> {
    const client = await this.#connected();
    const server: Server = createServer((socket) => {
      client.forwardOut("127.0.0.1", socket.remotePort ?? 0, remoteHost, remotePort, (error, channel) => {
        if (error) return socket.destroy();
        socket.pipe(channel).pipe(socket);
        socket.on("error", () => channel.close());
        channel.on("error", () => socket.destroy());
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const address = server.address();
    if (!address || typeof address === "string") throw new ConnectionError("Could not open a local port to forward");
    return {
      localPort: address.port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  async close(): Promise<void> {
    await super.close();
    this.#client?.end();
    this.#client = undefined;
    this.#connecting = undefined;
  }
}
