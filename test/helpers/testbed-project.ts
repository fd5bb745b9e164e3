// A slurmray.toml target pointing at the test bed, for tests that run the CLI against it.
import type { TestBed } from "./testbed.js";

export interface TestbedTargetOptions {
  name?: string;
  knownHosts?: string;
  baseDir?: string;
  extra?: string;
}

export function testbedToml(tb: TestBed, options: TestbedTargetOptions = {}): string {
  return `[project]
default_target = "${options.name ?? "tb"}"

[targets.${options.name ?? "tb"}]
kind = "slurm"
host = "${tb.host}"
port = ${tb.port}
user = "${tb.user}"
identity_file = "${tb.key}"
known_hosts = "${options.knownHosts ?? tb.knownHosts}"
partition = "debug"
${options.baseDir ? `base_dir = "${options.baseDir}"\n` : ""}${options.extra ?? ""}
`;
}
