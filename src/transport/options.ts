// Options shared by both SSH transports (OpenSSH and ssh2).
import type { PasswordProvider } from "./askpass.js";

export interface SshTransportOptions {
  /** Hostname, IP, or (OpenSSH only) an alias from ~/.ssh/config. */
  host: string;
  port?: number;
  user?: string;
  identityFile?: string;
  /** Extra known_hosts file, checked with the user's; newly accepted keys are recorded here when set. */
  knownHostsFile?: string;
  /** OpenSSH only: an ssh_config file used instead of ~/.ssh/config (ssh -F). */
  sshConfigFile?: string;
  /** Record an unknown host key instead of refusing (a changed key is always refused). */
  acceptNewHostKey?: boolean;
  /** May prompt on the terminal; false means BatchMode (no prompts) unless a password provider is given. */
  interactive?: boolean;
  /** Answers password / keyboard-interactive prompts. */
  password?: PasswordProvider;
  /** Seconds between keepalive probes (default 15), and how many may go unanswered (default 3). */
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
  /** Seconds to wait for the TCP connection (default 15). */
  connectTimeout?: number;
}

export const KEEPALIVE_INTERVAL = 15;
export const KEEPALIVE_COUNT_MAX = 3;
export const CONNECT_TIMEOUT = 15;

/** "user@host:port" for messages. */
export function describeTarget(user: string, host: string, port: number): string {
  return `${user}@${host}:${port}`;
}
