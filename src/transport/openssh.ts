// The default transport: the system `ssh` with one ControlMaster per target. The master authenticates once
// (a password or MFA prompt is answered once), stays up for ControlPersist seconds so the next CLI
// invocation reuses it, and every command is a cheap mux client of it. ~/.ssh/config (aliases,
// ProxyJump, IdentityFile, certificates) is honoured because ssh itself reads it.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { collectBounded } from "../util/bounded-text.js";
import { InputError } from "../util/errors.js";
import { privateDir } from "../util/private-dir.js";
import { withoutSecrets } from "../util/secrets.js";
import { startAskpass } from "./askpass.js";
import { CommandTransport } from "./base.js";
import {
  authenticationFailed,
  changedHostKey,
  connectionFailed,
  connectionLost,
  unknownHostKey,
} from "./messages.js";
import { CONNECT_TIMEOUT, describeTarget, KEEPALIVE_COUNT_MAX, KEEPALIVE_INTERVAL, type SshTransportOptions } from "./options.js";
import { masterGreets } from "./mux-hello.js";
import { spawnCommand } from "./process.js";
import { underPosixShell } from "./remote-command.js";
import type { RunningCommand } from "./running.js";
import type { Forward } from "./types.js";

export interface OpenSshOptions extends SshTransportOptions {
  /** Where control sockets live (default $XDG_RUNTIME_DIR/slurmray, ~/.slurmray/cm, or /tmp/slurmray-<uid>/cm: see controlDirFor). */
  controlDir?: string;
  /** Seconds the master stays up after the last use (ControlPersist, default 600). */
  persist?: number;
}

/** What `ssh -G` resolved for the target. */
interface Resolved {
  user: string;
  hostname: string;
  port: number;
  userKnownHostsFiles: string[];
  proxyJump: string;
}

// Unix socket paths are limited to ~104 bytes, and ssh appends 17 characters while creating the socket.
const MAX_SOCKET_PATH = 90;

interface LocalRun {
  code: number;
  stdout: string;
  stderr: string;
}

interface LocalRunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Settle as soon as the process exits 0, without waiting for its stdio to close (see #startMaster). */
  doneOnSuccessfulExit?: boolean;
  /** Kills the process when aborted (the run then rejects). */
  signal?: AbortSignal;
}

/** Runs ssh (or ssh-keyscan…) to completion; for short control operations, not remote commands. */
function runLocal(file: string, args: readonly string[], options: LocalRunOptions = {}): Promise<LocalRun> {
  return new Promise((resolve, reject) => {
    const env = { ...withoutSecrets(), ...options.env };
    const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "pipe"], signal: options.signal });
    let stdout = "";
    const stderr = collectBounded(child.stderr);
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
    child.on("error", reject);
    if (options.doneOnSuccessfulExit) child.on("exit", (code) => code === 0 && resolve({ code, stdout, stderr: stderr() }));
    child.on("close", (code) => resolve({ code: code ?? 255, stdout, stderr: stderr() }));
  });
}

/**
 * Where control sockets (and the askpass program) live, and the first dir of that path that must be ours:
 * the given dir; else $XDG_RUNTIME_DIR/slurmray (private by definition); else ~/.slurmray/cm; else, when
 * that path is too long for a socket, /tmp/slurmray-<uid>/cm.
 */
function controlDirFor(given: string | undefined, name: string): [dir: string, top: string] {
  if (given) return [given, given];
  const fits = (dir: string) => join(dir, name).length <= MAX_SOCKET_PATH;
  const runtime = process.env["XDG_RUNTIME_DIR"];
  if (runtime?.startsWith("/") && fits(join(runtime, "slurmray"))) return [join(runtime, "slurmray"), runtime];
  const home = join(homedir(), ".slurmray");
  if (fits(join(home, "cm"))) return [join(home, "cm"), home];
  const tmp = `/tmp/slurmray-${userInfo().uid}`;
  return [join(tmp, "cm"), tmp];
}

function quoteConfigValue(value: string): string {
  return /\s/.test(value) ? `"${value}"` : value;
}

/** A local TCP port that is free right now (for forwards). */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export class OpenSshTransport extends CommandTransport {
  readonly kind = "openssh" as const;
  readonly #options: OpenSshOptions;
  #resolved: Resolved | undefined;
  #socket = "";
  #connecting: Promise<void> | undefined;

  constructor(options: OpenSshOptions) {
    super();
    if (!options.host || options.host.startsWith("-")) throw new InputError(`Invalid SSH host: "${options.host}"`);
    this.#options = options;
  }

  get description(): string {
    const r = this.#resolved;
    if (r) return describeTarget(r.user, r.hostname, r.port);
    const o = this.#options;
    return `${o.user ? `${o.user}@` : ""}${o.host}${o.port ? `:${o.port}` : ""}`;
  }

  /** The control socket of this target's master (valid after connect()). */
  get controlSocket(): string {
    return this.#socket;
  }

  /** Options given to every ssh invocation, before the host. */
  #baseArgs(resolved?: Resolved): string[] {
    const o = this.#options;
    const args = ["-T", "-o", "LogLevel=ERROR"];
    if (o.sshConfigFile) args.push("-F", o.sshConfigFile);
    if (o.port) args.push("-p", String(o.port));
    if (o.user) args.push("-l", o.user);
    if (o.identityFile) args.push("-i", o.identityFile);
    args.push("-o", `StrictHostKeyChecking=${o.acceptNewHostKey ? "accept-new" : "yes"}`);
    if (o.knownHostsFile && resolved) {
      // First in the list, so that accept-new records the key there.
      const files = [o.knownHostsFile, ...resolved.userKnownHostsFiles].map(quoteConfigValue).join(" ");
      args.push("-o", `UserKnownHostsFile=${files}`);
    }
    args.push(
      "-o",
      `ServerAliveInterval=${o.keepaliveInterval ?? KEEPALIVE_INTERVAL}`,
      "-o",
      `ServerAliveCountMax=${o.keepaliveCountMax ?? KEEPALIVE_COUNT_MAX}`,
      "-o",
      `ConnectTimeout=${o.connectTimeout ?? CONNECT_TIMEOUT}`,
    );
    return args;
  }

  /** Arguments for a mux client / control command: never prompts, never becomes a master. */
  #clientArgs(): string[] {
    return [...this.#baseArgs(this.#resolved), "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-S", this.#socket];
  }

  async #resolve(): Promise<Resolved> {
    const run = await runLocal("ssh", ["-G", ...this.#baseArgs(), "--", this.#options.host]);
    if (run.code !== 0) throw connectionFailed(this.description, `ssh -G failed: ${run.stderr}`);
    const values = new Map<string, string>();
    for (const line of run.stdout.split("\n")) {
      const space = line.indexOf(" ");
      if (space > 0 && !values.has(line.slice(0, space))) values.set(line.slice(0, space), line.slice(space + 1));
    }
    return {
      user: values.get("user") ?? userInfo().username,
      hostname: values.get("hostname") ?? this.#options.host,
      port: Number(values.get("port") ?? 22),
      userKnownHostsFiles: (values.get("userknownhostsfile") ?? "").split(" ").filter(Boolean),
      proxyJump: values.get("proxyjump") ?? "",
    };
  }

  #socketPath(r: Resolved): string {
    const o = this.#options;
    const key = [r.user, r.hostname, r.port, r.proxyJump, o.identityFile ?? "", o.sshConfigFile ?? ""].join("\n");
    const name = createHash("sha256").update(key).digest("hex").slice(0, 12);
    const [dir, top] = controlDirFor(o.controlDir, name);
    return join(privateDir(dir, top), name);
  }

  async #control(operation: string, ...extra: string[]): Promise<LocalRun> {
    return runLocal("ssh", [...this.#clientArgs(), "-O", operation, ...extra, "--", this.#options.host]);
  }

  /** The master's PID, or null when no master is running. */
  async masterPid(): Promise<number | null> {
    const check = await this.#control("check");
    const match = /pid=(\d+)/.exec(check.stderr);
    return check.code === 0 && match ? Number(match[1]) : null;
  }

  connect(): Promise<void> {
    this.#connecting ??= this.#open().catch((error) => {
      this.#connecting = undefined;
      throw error;
    });
    return this.#connecting;
  }

  async #open(): Promise<void> {
    this.#resolved = await this.#resolve();
    this.#socket = this.#socketPath(this.#resolved);
    const greeted = await masterGreets(this.#socket);
    if (greeted === "yes" || (greeted === "unsure" && (await this.masterPid()) !== null)) return;
    // A socket left by a dead master would make the new one run without multiplexing.
    rmSync(this.#socket, { force: true });
    await this.#startMaster();
  }

  /** ssh exits 255 both when the remote command does and when the connection is lost: ask the master. */
  async #lostConnection(code: number): Promise<Error | null> {
    if (code !== 255 || (await this.masterPid()) !== null) return null;
    this.#connecting = undefined; // the next command starts a new master
    return connectionLost(this.description);
  }

  async #startMaster(): Promise<void> {
    const o = this.#options;
    const askpass = o.password ? await startAskpass(dirname(this.#socket), o.password) : undefined;
    const batch = !o.interactive && !o.password ? ["-o", "BatchMode=yes"] : [];
    // A wrong password is offered once, not three times (which may lock the account): one prompt per method,
    // and the askpass session stops ssh when a second method asks for the password again.
    const once = o.password ? ["-o", "NumberOfPasswordPrompts=1"] : [];
    // -f: ssh forks into the background once authenticated, so its exit tells us authentication is done.
    const args = [
      ...this.#baseArgs(this.#resolved),
      ...batch,
      ...once,
      "-M",
      "-N",
      "-f",
      "-S",
      this.#socket,
      "-o",
      `ControlPersist=${o.persist ?? 600}`,
      "--",
      o.host,
    ];
    try {
      // Older OpenSSH keeps the forked master's stderr open: success is its exit, not the pipe closing.
      const run = await runLocal("ssh", args, { env: askpass?.env, doneOnSuccessfulExit: true, signal: askpass?.refused }).catch((error: unknown) => {
        if (askpass?.refused.aborted) return null;
        throw error;
      });
      if (run === null) throw authenticationFailed(this.#resolved!.user, this.description, "the password was refused");
      if (run.code !== 0) throw await this.#connectError(run.stderr);
    } finally {
      await askpass?.close();
    }
  }

  async #connectError(stderr: string) {
    const r = this.#resolved!;
    const target = r.port === 22 ? r.hostname : `[${r.hostname}]:${r.port}`;
    if (stderr.includes("REMOTE HOST IDENTIFICATION HAS CHANGED")) {
      return changedHostKey(target, /(SHA256:[A-Za-z0-9+/=]+)/.exec(stderr)?.[1]);
    }
    if (/host key is known for|Host key verification failed/.test(stderr)) {
      return unknownHostKey(target, r.proxyJump === "none" || !r.proxyJump ? await this.#fingerprints(r) : []);
    }
    if (stderr.includes("Permission denied")) {
      return authenticationFailed(r.user, this.description, /Permission denied \(([^)]*)\)/.exec(stderr)?.[1]);
    }
    return connectionFailed(this.description, stderr);
  }

  /** Fingerprints of the keys the host presents (best effort, for the unknown-host message). */
  async #fingerprints(r: Resolved): Promise<string[]> {
    try {
      const scan = await runLocal("ssh-keyscan", ["-T", "5", "-p", String(r.port), r.hostname]);
      if (!scan.stdout.trim()) return [];
      const listed = await runLocal("ssh-keygen", ["-l", "-f", "-"], { input: scan.stdout });
      return listed.stdout.trim().split("\n").filter(Boolean);
    } catch {
      return [];
    }
  }

  protected async startCommand(command: string): Promise<RunningCommand> {
    await this.connect();
    return spawnCommand("ssh", [...this.#clientArgs(), "--", this.#options.host, underPosixShell(command)], {
      env: withoutSecrets(),
      failure: (code) => this.#lostConnection(code),
      // A mux client ignores SIGTERM while it waits on the master. Killing it closes the channel; the remote
      // command then ends at its next write (SIGPIPE): the mux protocol cannot deliver a signal to it.
      killSignal: "SIGKILL",
    });
  }

  async forward(remoteHost: string, remotePort: number): Promise<Forward> {
    await this.connect();
    const localPort = await freeLocalPort();
    const spec = `127.0.0.1:${localPort}:${remoteHost}:${remotePort}`;
    const opened = await this.#control("forward", "-L", spec);
    if (opened.code !== 0) throw connectionFailed(this.description, `port forward ${spec} failed: ${opened.stderr}`);
    return {
      localPort,
      close: async () => {
        await this.#control("cancel", "-L", spec);
      },
    };
  }

  /** Stops the master now (close() leaves it running for ControlPersist). */
  async shutdown(): Promise<void> {
    await this.close();
    if (this.#socket) await this.#control("exit");
    this.#connecting = undefined;
  }
}
