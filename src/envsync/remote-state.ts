// The remote env's state in ONE remote command (DESIGN.md, "The environment engine", step 2). The probe is a
// POSIX sh snippet printing the "env" section, so the job pipeline can batch it with other layers' probes.
// It is adaptive: when the env's stamp matches the snapshot hash (the fast path) or the id of the stamp
// the local cache was taken under, it prints only the stamp, and no Python starts; otherwise it runs
// envprobe.py in the env, or, when there is no working env, lists the Pythons found remotely.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { remoteFile } from "../remote/index.js";
import type { Transport } from "../transport/types.js";
import { RemoteCommandError } from "../util/errors.js";
import { quote } from "../util/shell.js";
import { isProbedEnvironment, type ProbedEnvironment } from "./distributions.js";
import type { Pep610DirectUrl } from "./requirements/direct-url.js";
import { sectionLines, wrapSection } from "../util/sections.js";
import { RESOLVE_ENV } from "./generations.js";
import { parseStamp, STAMP_FILE, type Stamp } from "./stamp.js";

export const ENV_SECTION = "env";
/** The section the apply script prints DIST_INFO_SNIPPET into. */
export const DIST_SECTION = "envdists";

export interface RemotePython {
  /** Full version, "3.11.2". */
  version: string;
  path: string;
}

/** What the probe found. `uv` is the path of uv on the remote, or null; `envDir` the current generation's dir. */
export type RemoteEnvProbe = { uv: string | null; envDir: string | null } & (
  | { kind: "stamp"; stamp: Stamp }
  | { kind: "state"; state: ProbedEnvironment; stamp: Stamp | null }
  | { kind: "missing"; broken: boolean; pythons: RemotePython[] }
);

export interface EnvProbeOptions {
  /** Absolute remote path of the env. */
  envDir: string;
  /** The Python major.minor the env needs: when the env is missing, look for it first. */
  python?: string;
  /** Print only the stamp when it records this snapshot hash. */
  matchHash?: string;
  /** Print only the stamp when it has this id (the local cache's). */
  matchStampId?: string;
}

const PROBE_SOURCE = readFileSync(remoteFile("envprobe.py"), "utf8");
const HEX = /^[0-9a-f]+$/;

/** Where slurmray installs uv per user when allowed: <base_dir>/tools/uv (base_dir = the envs folder's parent). */
export function userUvPath(envDir: string): string {
  return `${dirname(dirname(envDir))}/tools/uv/bin/uv`;
}

/** Sets $sr_uv to uv's path (PATH, the usual per-user spots, slurmray's own) or "". */
export function findUvSnippet(envDir: string): string {
  const spots = ['"$HOME/.local/bin/uv"', '"$HOME/.cargo/bin/uv"', quote(userUvPath(envDir))].join(" ");
  return [
    "sr_uv=$(command -v uv 2>/dev/null) || sr_uv=",
    `for sr_c in ${spots}; do [ -z "$sr_uv" ] && [ -x "$sr_c" ] && sr_uv=$sr_c; done`,
  ].join("\n");
}

const VERSION_OF = `-c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'`;

// python3 and python3.N on PATH with their versions, and the Pythons uv manages (a missing env only).
const LIST_PYTHONS = `sr_ifs=$IFS; IFS=:
for sr_d in $PATH; do
  IFS=$sr_ifs
  for sr_p in "$sr_d"/python3 "$sr_d"/python3.[0-9] "$sr_d"/python3.[0-9][0-9]; do
    [ -x "$sr_p" ] && [ ! -d "$sr_p" ] || continue
    sr_v=$("$sr_p" ${VERSION_OF} 2>/dev/null) && printf 'python %s %s\\n' "$sr_v" "$sr_p"
  done
done
IFS=$sr_ifs
[ -n "$sr_uv" ] && "$sr_uv" python list --only-installed 2>/dev/null | sed 's/^/uvpython /'`;

/**
 * With a wanted major.minor: its pythonX.Y on PATH when that runs (the usual case: one Python start),
 * else every Python found. (A pyenv shim may exist for a version that is not installed.)
 */
export function listPythons(wanted: string | undefined): string {
  if (!wanted || !/^\d+\.\d+$/.test(wanted)) return LIST_PYTHONS;
  return `if sr_p=$(command -v python${wanted}) && sr_v=$("$sr_p" ${VERSION_OF} 2>/dev/null); then
  printf 'python %s %s\\n' "$sr_v" "$sr_p"
else
${LIST_PYTHONS}
fi`;
}

/** The full-state part: envprobe.py in the env, or the list of remote Pythons. Expects $sr_env, $sr_uv. */
export function fullStateSnippet(wantedPython: string | undefined): string {
  return `if [ -x "$sr_env/bin/python" ] && sr_out=$("$sr_env/bin/python" -I - "$sr_env" 2>/dev/null <<'SLURMRAY_ENVPROBE'
${PROBE_SOURCE}
SLURMRAY_ENVPROBE
); then
  printf 'state %s\\n' "$sr_out"
else
  if [ -e "$sr_env/bin/python" ]; then echo broken; else echo missing; fi
  ${listPythons(wantedPython).replaceAll("\n", "\n  ")}
fi`;
}

/**
 * The env's distributions without starting Python: its *.dist-info folders ("name-version") and their
 * direct_url.json, printed after an install so the local cache follows the env for the price of a glob.
 */
export const DIST_INFO_SNIPPET = `for sr_d in "$sr_env"/lib/python*/site-packages/*.dist-info; do
  [ -d "$sr_d" ] || continue
  printf 'dist %s\\n' "\${sr_d##*/}"
  [ -f "$sr_d/direct_url.json" ] && printf 'direct %s %s\\n' "\${sr_d##*/}" "$(tr -d '\\n' < "$sr_d/direct_url.json")"
done
:`;

/** Parses the lines of DIST_INFO_SNIPPET: name (as the folder spells it), version, direct_url. */
export function parseDistInfo(lines: readonly string[]): { name: string; version: string; direct_url: Pep610DirectUrl | null }[] {
  const direct = new Map<string, Pep610DirectUrl>();
  for (const line of lines) {
    const match = /^direct (\S+) (.+)$/.exec(line);
    if (!match) continue;
    try {
      direct.set(match[1]!, JSON.parse(match[2]!) as Pep610DirectUrl);
    } catch {
      // A malformed direct_url.json only loses the URL comparison for that one distribution.
    }
  }
  return lines.flatMap((line) => {
    const match = /^dist (([^-]+)-(.+)\.dist-info)$/.exec(line);
    return match ? [{ name: match[2]!, version: match[3]!, direct_url: direct.get(match[1]!) ?? null }] : [];
  });
}

/** Sets $sr_base (the env family, see generations.ts), $sr_env (its current generation) and $sr_uv. */
export function envVariables(envDir: string): string {
  return `sr_base=${quote(envDir)}\n${RESOLVE_ENV}\n${findUvSnippet(envDir)}`;
}

/** The "env" section: uv's path and the env's dir, then what `body` prints. Expects $sr_env, $sr_uv. */
export function envSection(body: string): string {
  return wrapSection(ENV_SECTION, `echo "uv $sr_uv"\necho "dir $sr_env"\n${body}`);
}

/**
 * A checksum of the names of the env's distribution folders ("alpha-1.0.dist-info"), which change whenever a
 * distribution is added, removed or changes version, by slurmray or behind its back (`pip install` in the
 * env). The stamp records it; a stamp whose checksum no longer matches does not vouch for the env.
 * A glob and cksum, no Python start. This is a command substitution (use it inside double quotes); the glob
 * runs in the C locale so that its order does not follow the login's LANG (which ssh may forward).
 */
export const SITE_SUM = `$( (LC_ALL=C; export LC_ALL; printf '%s\\n' "$sr_env"/lib/python*/site-packages/*.dist-info "$sr_env"/lib/python*/site-packages/*.egg-info) | cksum)`;

/**
 * The sh condition "the env runs, its stamp records one of these, and its distributions are as the stamp
 * records", or null when no value is valid hex.
 */
export function stampMatches({ matchHash, matchStampId }: Pick<EnvProbeOptions, "matchHash" | "matchStampId">): string | null {
  const patterns = [
    ...(matchHash && HEX.test(matchHash) ? [`"hash":"${matchHash}"`] : []),
    ...(matchStampId && HEX.test(matchStampId) ? [`"id":"${matchStampId}"`] : []),
  ];
  if (patterns.length === 0) return null;
  const grep = patterns.map((pattern) => `-e ${quote(pattern)}`).join(" ");
  const stamp = `"$sr_env/${STAMP_FILE}"`;
  return `[ -x "$sr_env/bin/python" ] && grep -q -F ${grep} ${stamp} 2>/dev/null && grep -q -F "\\"site\\":\\"${SITE_SUM}\\"" ${stamp}`;
}

export const PRINT_STAMP = `printf 'stamp %s\\n' "$(cat "$sr_env/${STAMP_FILE}")"`;

/** The sh snippet printing the "env" section (see the module comment). */
export function envProbeSnippet(options: EnvProbeOptions): string {
  const full = fullStateSnippet(options.python);
  const matches = stampMatches(options);
  return `${envVariables(options.envDir)}\n${envSection(matches ? `if ${matches}; then\n${PRINT_STAMP}\nelse\n${full}\nfi` : full)}`;
}

function parsePythons(lines: readonly string[]): RemotePython[] {
  const found = new Map<string, RemotePython>();
  for (const line of lines) {
    const plain = /^python (\d+\.\d+\.\S+) (.+)$/.exec(line);
    // uv: "cpython-3.11.2-linux-x86_64-gnu    /usr/bin/python3 -> python3.11"
    const uv = /^uvpython [a-z]+-(\d+\.\d+\.\d+)\S*\s+(\/\S+)/.exec(line);
    const match = plain ?? uv;
    if (match && !found.has(match[2]!)) found.set(match[2]!, { version: match[1]!, path: match[2]! });
  }
  return [...found.values()];
}

/** The env's state as envprobe.py prints it; a line that is not one is named, never a raw SyntaxError. */
function probedState(text: string): ProbedEnvironment {
  let value: unknown = null;
  try {
    value = JSON.parse(text);
  } catch {
    // not JSON: refused below
  }
  if (!isProbedEnvironment(value)) throw new Error(`the remote env probe's state is not what envprobe.py prints: ${text.slice(0, 200)}`);
  return value;
}

/** Parses the "env" section out of a command's output. Throws when the section is absent or garbled. */
export function parseEnvProbe(output: string): RemoteEnvProbe {
  const lines = sectionLines(output, ENV_SECTION);
  if (!lines) throw new Error(`the remote env probe printed no "${ENV_SECTION}" section:\n${output.slice(-2000)}`);
  const uv = lines.find((line) => line.startsWith("uv "))?.slice(3).trim() || null;
  const envDir = lines.find((line) => line.startsWith("dir "))?.slice(4) || null;
  const stampLine = lines.find((line) => line.startsWith("stamp "));
  const stamp = stampLine ? parseStamp(stampLine.slice(6)) : null;
  if (stamp) return { kind: "stamp", uv, envDir, stamp };
  const stateLine = lines.find((line) => line.startsWith("state "));
  if (stateLine) {
    const state = probedState(stateLine.slice(6));
    return { kind: "state", uv, envDir, state, stamp: parseStamp(state.stamp ?? null) };
  }
  return { kind: "missing", uv, envDir, broken: lines.includes("broken"), pythons: parsePythons(lines) };
}

/** Runs the probe alone over a transport (one remote command). */
export async function probeRemoteEnv(transport: Transport, options: EnvProbeOptions): Promise<RemoteEnvProbe> {
  const snippet = envProbeSnippet(options);
  const result = await transport.script(snippet);
  if (result.code !== 0) throw new RemoteCommandError("Reading the remote env", "sh -s (env probe)", result.code, result.stderr);
  return parseEnvProbe(result.stdout);
}
