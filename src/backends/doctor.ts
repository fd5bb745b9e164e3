// What a kind adds to `slurmray doctor` (doctor/ runs it and never names a kind): a few lines of sh in doctor's
// one remote probe, and the checks read from the facts they print. Registered per kind in ./registry.ts.
import type { TargetConfig } from "../config/schema.js";

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do, for a warning or a failure. */
  fix?: string;
}

export interface KindDoctor {
  /** POSIX sh run inside doctor's probe (remote/doctor.sh), printing `key=value` lines; every value quoted. */
  probe(target: TargetConfig): string;
  /** The kind's checks, from every `key=value` fact the probe printed. */
  checks(target: TargetConfig, facts: ReadonlyMap<string, string>): Check[];
}

/** "ok" when `ok`, else `otherwise` (a failure unless the check is optional). */
export function checkStatus(ok: boolean, otherwise: CheckStatus = "fail"): CheckStatus {
  return ok ? "ok" : otherwise;
}
