import assert from "node:assert/strict";
import { test } from "node:test";
import type { RemoteTargetConfig } from "../../../src/config/target.js";
import { remoteChecks } from "../../../src/doctor/checks.js";

const FACTS = [
  "pythons= 3.11",
  "python_wanted=/usr/bin/python3.11",
  "uv=/usr/local/bin/uv",
  ...["sbatch", "squeue", "sacct", "scancel", "sinfo"].map((c) => `slurm_${c}=yes`),
  "partitions=debug* short ",
  "base_writable=yes",
  "base=/home/u/.slurmray",
  `free_kb=${50 * 1024 * 1024}`,
  "index_url=https://pypi.org/simple",
  "index_trust=/etc/ssl/certs/ca-certificates.crt",
  "index_status=ok",
  "index_detail=HTTP 200",
].join("\n");

const slurm = { kind: "slurm", host: "h", partition: "debug" } as RemoteTargetConfig;
const statusOf = (facts: string, target: RemoteTargetConfig = slurm): Record<string, string> =>
  Object.fromEntries(remoteChecks(target, "3.11", facts).map((check) => [check.name, check.status]));

test("a healthy target: every check ok", () => {
  assert.deepEqual(new Set(Object.values(statusOf(FACTS))), new Set(["ok"]));
});

test("uv and sacct missing are warnings; a missing sbatch is a failure", () => {
  const facts = FACTS.replace("uv=/usr/local/bin/uv", "uv=").replace("slurm_sacct=yes", "slurm_sacct=no");
  const status = statusOf(facts);
  assert.equal(status["uv"], "warn");
  assert.equal(status["sacct"], "warn");
  assert.equal(status["Slurm commands"], "ok");
  assert.equal(statusOf(facts.replace("slurm_sbatch=yes", "slurm_sbatch=no"))["Slurm commands"], "fail");
  // install_uv = true: slurmray brings uv itself.
  assert.equal(statusOf(facts, { ...slurm, install_uv: true } as RemoteTargetConfig)["uv"], "ok");
});

test("an index that cannot be trusted fails, with the pip.conf setting to fix it", () => {
  const facts = FACTS.replace("index_status=ok", "index_status=fail").replace("index_detail=HTTP 200", "index_detail=[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed");
  const index = remoteChecks(slurm, "3.11", facts).find((check) => check.name === "package index")!;
  assert.equal(index.status, "fail");
  assert.match(index.fix!, /cert = \/path\/to\/ca-bundle\.pem/);
});
