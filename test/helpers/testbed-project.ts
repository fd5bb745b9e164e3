// A slurmray.toml target pointing at the test bed, for tests that run the CLI against it.
import { keyOf, type TestBed } from "./testbed.js";

export interface TestbedTargetOptions {
  name?: string;
  knownHosts?: string;
  baseDir?: string;
  /** One of the bed's users (default: tb.user), logging in with its key. */
  user?: string;
  extra?: string;
}

export function testbedToml(tb: TestBed, options: TestbedTargetOptions = {}): string {
  return `[project]
default_target = "${options.name ?? "tb"}"

[targets.${options.name ?? "tb"}]
kind = "slurm"
host = "${tb.host}"
port = ${tb.port}
user = "${options.user ?? tb.user}"
identity_file = "${keyOf(tb, options.user ?? tb.user)}"
known_hosts = "${options.knownHosts ?? tb.knownHosts}"
partition = "debug"
${options.baseDir ? `base_dir = "${options.baseDir}"\n` : ""}${options.extra ?? ""}
`;
}

/**
 * A slurmray.toml whose default target "box" is a shared server: the bed's sshd and its root-owned queue dir
 * (or `queueDir`, one of the test's own, so that its jobs hold no core another test's job expects).
 */
export function serverToml(tb: TestBed, options: { user?: string; baseDir: string; gpus: number[]; queueDir?: string }): string {
  const user = options.user ?? tb.user;
  return `[project]
default_target = "box"

[targets.box]
kind = "server"
host = "${tb.host}"
port = ${tb.port}
user = "${user}"
identity_file = "${keyOf(tb, user)}"
known_hosts = "${tb.knownHosts}"
base_dir = "${options.baseDir}"
queue_dir = "${options.queueDir ?? tb.queueDir}"
limits = { cpus = 2, mem = 2, gpus = [${options.gpus.join(", ")}] }
`;
}
