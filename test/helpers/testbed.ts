// The loopback Slurm + OpenSSH test bed started by `bash scripts/test-cluster.sh up`.
// Integration tests call requireTestbed(t): outside CI a missing bed skips the test with one line saying how
// to start it; in CI (CI=true) it fails the test, so a broken bed can never pass as "all skipped".
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { OpenSshTransport } from "../../src/transport/openssh.js";
import { quoteArgv } from "../../src/util/shell.js";
import { scratchDir } from "./scratch.js";

const SCRIPT = fileURLToPath(new URL("../../scripts/test-cluster.sh", import.meta.url));
const START_HINT = "bash scripts/test-cluster.sh up";

export interface TestBed {
  /** State directory of the bed (logs in dir/log). */
  dir: string;
  host: string;
  /** The test sshd's port. */
  port: number;
  /** Main test user (key and password login). */
  user: string;
  /** Private key of `user`. */
  key: string;
  /** Second test user (key login only). */
  user2: string;
  key2: string;
  /** A user whose login shell is tcsh (key login only). */
  tcshUser: string;
  tcshKey: string;
  /** A user whose sshd `Match User` block sets MaxSessions to `limitedMaxSessions` (the bed's default is 50). */
  limitedUser: string;
  limitedKey: string;
  limitedMaxSessions: number;
  /** A root-owned sticky (1777) dir on the bed, for a base_dir that `user` and `user2` share. */
  sharedDir: string;
  /** The server kind's queue dir: root-owned, sticky, 1777, as an admin makes it. */
  queueDir: string;
  /** `user`'s login password: a test-bed secret. */
  password: string;
  /** known_hosts holding the test sshd's key as [host]:port. */
  knownHosts: string;
  /** ssh_config with `Host srtb` (user), `srtb2` (user2), `srtb-tcsh` (tcshUser), `srtb-limited` (limitedUser). */
  sshConfig: string;
  /** The bed's slurm.conf (SLURM_CONF). */
  slurmConf: string;
}

type Env = Record<string, string | undefined>;

/** TestBed field → the variable `test-cluster.sh env` exports for it. */
const VARIABLES = {
  dir: "SLURMRAY_TB_DIR",
  host: "SLURMRAY_TB_HOST",
  port: "SLURMRAY_TB_PORT",
  user: "SLURMRAY_TB_USER",
  key: "SLURMRAY_TB_KEY",
  user2: "SLURMRAY_TB_USER2",
  key2: "SLURMRAY_TB_KEY2",
  tcshUser: "SLURMRAY_TB_TCSH_USER",
  tcshKey: "SLURMRAY_TB_TCSH_KEY",
  limitedUser: "SLURMRAY_TB_LIMITED_USER",
  limitedKey: "SLURMRAY_TB_LIMITED_KEY",
  limitedMaxSessions: "SLURMRAY_TB_LIMITED_MAX_SESSIONS",
  sharedDir: "SLURMRAY_TB_SHARED_DIR",
  queueDir: "SLURMRAY_TB_QUEUE_DIR",
  password: "SLURMRAY_TB_PASSWORD",
  knownHosts: "SLURMRAY_TB_KNOWN_HOSTS",
  sshConfig: "SLURMRAY_TB_SSH_CONFIG",
  slurmConf: "SLURM_CONF",
} as const;

function fromEnv(env: Env): TestBed | null {
  const entries = Object.entries(VARIABLES).map(([field, name]) => [field, env[name]] as const);
  if (entries.some(([, value]) => !value)) return null;
  const fields = Object.fromEntries(entries) as Record<keyof typeof VARIABLES, string>;
  return { ...fields, port: Number(fields.port), limitedMaxSessions: Number(fields.limitedMaxSessions) };
}

/** Parses the `export NAME=value` lines of `test-cluster.sh env` (values are plain words and paths). */
function parseEnvOutput(text: string): Env {
  const env: Env = {};
  for (const line of text.split("\n")) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** The running bed's variables from its state dir, or null when it is absent or any daemon is down. */
function fromStateDir(): TestBed | null {
  const dir = process.env["SLURMRAY_TESTBED_DIR"] || "/tmp/srtb";
  if (!existsSync(join(dir, "ports.env"))) return null;
  try {
    execFileSync("bash", [SCRIPT, "status"], { stdio: "ignore", timeout: 10_000 });
    return fromEnv(parseEnvOutput(execFileSync("bash", [SCRIPT, "env"], { encoding: "utf8", timeout: 10_000 })));
  } catch {
    return null;
  }
}

let cached: TestBed | null | undefined;

/** The test bed from SLURMRAY_TB_* variables, else from a running bed's state dir; null when there is none. */
export function testbed(): TestBed | null {
  if (cached === undefined) cached = fromEnv(process.env) ?? fromStateDir();
  return cached;
}

/** The test bed, or: in CI throws (the test fails); elsewhere skips the test and returns undefined. */
export function requireTestbed(t: TestContext): TestBed | undefined {
  const tb = testbed();
  if (tb) return tb;
  if (process.env["CI"] === "true") {
    throw new Error(`test bed not running (CI=true, so this fails instead of skipping): ${START_HINT}`);
  }
  t.skip(`test bed not running: ${START_HINT}`);
  return undefined;
}

/** `ssh` options every connection to the bed needs: no ~/.ssh/config, the bed's port and known_hosts. */
export function sshBaseArgs(tb: TestBed): string[] {
  return [
    "-F",
    "/dev/null",
    "-p",
    String(tb.port),
    "-o",
    `UserKnownHostsFile=${tb.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "ConnectTimeout=10",
  ];
}

/** One of the bed's users: its private key and its `Host` alias in tb.sshConfig. */
function bedUser(tb: TestBed, user: string): { key: string; alias: string } {
  const users: Record<string, { key: string; alias: string }> = {
    [tb.user]: { key: tb.key, alias: "srtb" },
    [tb.user2]: { key: tb.key2, alias: "srtb2" },
    [tb.tcshUser]: { key: tb.tcshKey, alias: "srtb-tcsh" },
    [tb.limitedUser]: { key: tb.limitedKey, alias: "srtb-limited" },
  };
  const found = users[user];
  if (!found) throw new Error(`${user} is not a test bed user`);
  return found;
}

/** The private key of one of the bed's users. */
export function keyOf(tb: TestBed, user: string): string {
  return bedUser(tb, user).key;
}

/** Arguments for a plain key-login `ssh` to the bed as `user` (default: tb.user), with `options` before the
 * destination; append the command. */
export function sshArgs(tb: TestBed, user: string = tb.user, options: readonly string[] = []): string[] {
  const key = keyOf(tb, user);
  return [...sshBaseArgs(tb), "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", ...options, `${user}@${tb.host}`];
}

/** An OpenSshTransport logged in to the bed as `user` (default: the main user) through its ssh_config alias,
 * with its own control dir. */
export function bedTransport(tb: TestBed, controlDirPrefix = "/tmp/srtbc-", user: string = tb.user): OpenSshTransport {
  const host = bedUser(tb, user).alias;
  return new OpenSshTransport({ host, sshConfigFile: tb.sshConfig, controlDir: scratchDir(controlDirPrefix) });
}

/**
 * A fresh base_dir (absolute) in `user`'s home on the bed, for one test file: its remote envs, projects and
 * runtime then go away with one removeRemote() in `after`. (The bed is on loopback: its users are local.)
 */
export function scratchBaseDir(tb: TestBed, user: string = tb.user): string {
  const home = execFileSync("getent", ["passwd", user], { encoding: "utf8" }).split(":")[5];
  return `${home}/.srit-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Runs `command` (sh) on the bed as `user`; its stdout. Throws when it fails. */
export function runOnBed(tb: TestBed, command: string, user: string = tb.user): string {
  const r = spawnSync("ssh", [...sshArgs(tb, user), command], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`on the test bed, ${command} failed: ${r.stderr}`);
  return r.stdout;
}

/** Removes `paths` on the bed as `user` (rm -rf); throws when that fails. */
export function removeRemote(tb: TestBed, paths: readonly string[], user: string = tb.user): void {
  // Code trees and objects are read-only (0500 dirs, 0444 files): made writable first, then removed.
  const command = `${quoteArgv(["chmod", "-R", "u+w", "--", ...paths])} 2>/dev/null; ${quoteArgv(["rm", "-rf", "--", ...paths])}`;
  const r = spawnSync("ssh", [...sshArgs(tb, user), command], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`removing ${paths.join(" ")} on the test bed failed: ${r.stderr}`);
}
