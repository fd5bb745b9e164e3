// The code probe, batchable with other layers' probes: the user's uid (which names the store) and whether
// the tree of the manifest this target was last sent still exists. The tree on disk is the only stamp:
// it is renamed into place whole once every object is linked, so its presence vouches for all of it,
// unless a job found one of its files changed since (it marked the tree tainted: the next apply repairs it).
import type { Transport } from "../transport/types.js";
import { RemoteCommandError } from "../util/errors.js";
import { sectionLines, wrapSection } from "../util/sections.js";
import { quote } from "../util/shell.js";

const SECTION = "code";

export interface CodeProbe {
  uid: string;
  /** Whether the tree of the id asked about exists (false when no id was asked about). */
  present: boolean;
  /** It exists, and a job found a file of it changed: an apply must repair it before a job uses it. */
  tainted: boolean;
}

/** POSIX sh printing `uid N` and `tree present|missing` for lastId (null: nothing sent yet). */
export function codeProbeSnippet(baseDir: string, lastId: string | null): string {
  const path = (suffix: string): string => `${quote(`${baseDir}/trees/`)}"$sr_uid"/${quote(`${lastId}${suffix}`)}`;
  const tree = lastId === null ? "false" : `[ -d ${path("")} ]`;
  const tainted = lastId === null ? "" : `; [ -e ${path(".tainted")} ] && echo tree tainted`;
  return wrapSection(SECTION, `sr_uid=$(id -u); echo "uid $sr_uid"; if ${tree}; then echo tree present${tainted}; else echo tree missing; fi`);
}

/** The probe's answer, or undefined when the section is missing or malformed. */
export function parseCodeProbe(output: string): CodeProbe | undefined {
  const lines = sectionLines(output, SECTION);
  const uid = lines?.map((l) => /^uid (\d+)$/.exec(l)?.[1]).find((u) => u !== undefined);
  if (!lines || uid === undefined) return undefined;
  const present = lines.includes("tree present");
  return { uid, present, tainted: present && lines.includes("tree tainted") };
}

/** Runs the probe alone. */
export async function probeCode(transport: Transport, baseDir: string, lastId: string | null): Promise<CodeProbe> {
  const result = await transport.script(codeProbeSnippet(baseDir, lastId));
  const probe = parseCodeProbe(result.stdout);
  if (result.code !== 0 || probe === undefined) {
    throw new RemoteCommandError("Reading the code store", "sh -s (code probe)", result.code, result.stderr);
  }
  return probe;
}
