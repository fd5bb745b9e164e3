// Building SSH transports against the test bed, hermetically: no ~/.ssh/config, a private control dir.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { OpenSshTransport } from "../../../src/transport/openssh.js";
import type { SshTransportOptions } from "../../../src/transport/options.js";
import { Ssh2Transport } from "../../../src/transport/ssh2.js";
import { scratchDir } from "../../helpers/scratch.js";
import type { TestBed } from "../../helpers/testbed.js";

export type SshKind = "openssh" | "ssh2";
export const SSH_KINDS: SshKind[] = ["openssh", "ssh2"];

const scratchDirs: string[] = [];
process.on("exit", () => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A short private scratch dir (control sockets need short paths), removed when the process exits. */
export function scratch(): string {
  const dir = scratchDir("/tmp/srt-");
  scratchDirs.push(dir);
  return dir;
}

export function makeSsh(kind: SshKind, options: SshTransportOptions): OpenSshTransport | Ssh2Transport {
  if (kind === "ssh2") return new Ssh2Transport(options);
  return new OpenSshTransport({ sshConfigFile: "/dev/null", controlDir: scratch(), ...options });
}

/** Options that log in to the bed as its main user with its key. */
export function bedOptions(bed: TestBed): SshTransportOptions {
  return { host: bed.host, port: bed.port, user: bed.user, identityFile: bed.key, knownHostsFile: bed.knownHosts };
}

/** Stops what a test opened: the master too, for OpenSSH. */
export async function dispose(transport: OpenSshTransport | Ssh2Transport): Promise<void> {
  if (transport instanceof OpenSshTransport) await transport.shutdown();
  else await transport.close();
}

/** A known_hosts file holding the bed's host key under `port` (e.g. a proxy's). */
export function knownHostsForPort(bed: TestBed, port: number, dir: string): string {
  const line = readFileSync(bed.knownHosts, "utf8").replaceAll(`:${bed.port} `, `:${port} `);
  const file = join(dir, "known_hosts");
  writeFileSync(file, line);
  return file;
}

/** A known_hosts file that records a DIFFERENT key for the bed than the one it has. */
export function wrongKnownHosts(bed: TestBed, dir: string): string {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "impostor")]);
  const [type, key] = readFileSync(join(dir, "impostor.pub"), "utf8").split(" ");
  const file = join(dir, "changed_known_hosts");
  writeFileSync(file, `[${bed.host}]:${bed.port} ${type} ${key}\n`);
  return file;
}

/** A key the bed does not accept. */
export function strangerKey(dir: string): string {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "stranger")]);
  return join(dir, "stranger");
}

export interface Proxy {
  port: number;
  /** Closes every connection (the peer sees the network go away at once). */
  cut(): void;
  /** Stops passing bytes but keeps connections open (a silent network death: only keepalives notice). */
  freeze(): void;
  close(): Promise<void>;
}

/** A TCP proxy to the bed's sshd whose connections can be cut or frozen. */
export async function startProxy(bed: TestBed): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(bed.port, bed.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  const freeze = () => {
    for (const s of sockets) {
      s.unpipe();
      s.pause();
    }
  };
  const close = () =>
    new Promise<void>((resolve) => {
      cut();
      server.close(() => resolve());
    });
  return { port, cut, freeze, close };
}

/** PIDs of this process's children running `comm` (e.g. "ssh"). */
export function childrenNamed(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && name === comm) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** True while /proc/pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
