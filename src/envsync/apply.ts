// The apply script: ONE remote sh script that, under the env family's lock (<base>.lock, see generations.ts),
// re-reads the stamp (another sync may just have finished), creates the env when missing (or, when a job
// uses the current env, builds the next generation beside it), removes the stamp, installs only the plan
// (uv when present, else pip), writes the new stamp atomically, makes the env current, removes generations
// no job uses, and lists the env's distributions for the cache.
import { PYTHON_IMPORT_VARIABLES } from "../model/job-env.js";
import type { ExecResult, Transport } from "../transport/types.js";
import { quote, quoteArgv } from "../util/shell.js";
import { EnvSyncError } from "./errors.js";
import { installFailure } from "./install-errors.js";
import { progressSink } from "./install-progress.js";
import { pipFallbackWarning, siteInstallerFunction } from "./installer-config.js";
import { parseRequirement } from "./requirements/requirement.js";
import {
  DIST_INFO_SNIPPET,
  DIST_SECTION,
  envSection,
  envVariables,
  fullStateSnippet,
  listPythons,
  PRINT_STAMP,
  parseDistInfo,
  SITE_SUM,
  stampMatches,
  userUvPath,
} from "./remote-state.js";
import { sectionLines, wrapSection } from "../util/sections.js";
import type { IndexOptions } from "./snapshot.js";
import { buildBeside, type EnvsInUse, isOneOf, lockFamily, movedSince, parseRetired, RESOLVE_ENV, retireStale, switchCurrent } from "./generations.js";
import { STAMP_FILE, type Stamp, stampLine } from "./stamp.js";

/** How to create the env when it is missing: with this interpreter, or first `uv python install <version>`. */
export interface CreateWith {
  /** The interpreter (path, or "python3.11" to be found on PATH / by uv). */
  python: string;
  /** Provision the interpreter with `uv python install` first (allow_python_install). */
  installPython: boolean;
}

export interface ApplyInput {
  envDir: string;
  stamp: Stamp;
  /** uv's remote path, or null to use pip (unless installUv). */
  uv: string | null;
  installUv: boolean;
  /** Empty the env first (--force-reinstall, or a broken env). */
  recreate: boolean;
  /** Act even when the stamp records this snapshot already (--exact acts whatever the stamp says). */
  ignoreStamp?: boolean;
  create: CreateWith;
  uninstall: string[];
  install: string[];
  /** Parity: "name==version" lines the installer applies as constraints (`-c`); see parity.ts. */
  constraints: string[];
  indexOptions: IndexOptions;
  /**
   * The envs jobs use. When the current env is one of them (or another run holds a claim), a change is made
   * in a new generation beside it; generations that are neither current nor in use are removed (none while
   * a claim is held). Absent: not known, so the env is changed in place and nothing is removed.
   */
  inUse?: EnvsInUse;
  /** With `inUse`: the stamp id the caller's probe saw ("" for none); see generations.ts, movedSince. */
  seenStampId?: string;
  /** With `inUse`: what a new env gets (the whole snapshot) when one is made anew beside the current one. */
  fresh?: Pick<ApplyInput, "install" | "constraints">;
}

export interface ApplyOutcome {
  /** Another sync had already brought the env to this snapshot: nothing was done. */
  already: boolean;
  created: boolean;
  /** The env's distributions after the script (from its dist-info folders), for the local cache. */
  distributions: ReturnType<typeof parseDistInfo>;
  /** The dir of the env now current (a new generation when one was built beside the old). */
  envDir: string | null;
  /** Generations removed because no job used them any more. */
  retired: string[];
  /** Said once to the user: uv could not reach the index and pip installed instead. */
  warnings: string[];
}

// The lock file of slurmray versions that locked inside the env; kept when an env is emptied.
const LOCK_FILE = ".slurmray.lock";
const STEP = (name: string): string => `@@slurmray:apply:${name}@@`;
const step = (name: string): string => `echo '${STEP(name)}'`;
const failAt = (name: string): string => `{ ${step(`fail:${name}`)}; exit 1; }`;

function indexArgs({ indexUrl, extraIndexUrls = [], findLinks = [] }: IndexOptions): string[] {
  return [
    ...(indexUrl ? ["--index-url", indexUrl] : []),
    ...extraIndexUrls.flatMap((url) => ["--extra-index-url", url]),
    ...findLinks.flatMap((url) => ["--find-links", url]),
  ];
}

// Written under the lock just before the install; uv and pip both read `-c FILE`.
const CONSTRAINTS_FILE = '"$sr_env/.slurmray-constraints.txt"';

function writeConstraints(constraints: readonly string[]): string {
  return constraints.length > 0 ? `  printf '%s\\n' ${quoteArgv(constraints)} > ${CONSTRAINTS_FILE} || ${failAt("install")}` : "";
}

// Each installer line is a shell command using $sr_uv / $sr_env; its stdout goes to stderr so that the
// script's stdout holds only markers and the env section.
function installerCommand(verb: "install" | "uninstall", names: readonly string[], options: IndexOptions, constrained = false): string {
  const quoted = quoteArgv(verb === "install" ? [...indexArgs(options), ...names] : names);
  const args = constrained ? `${quoted} -c ${CONSTRAINTS_FILE}` : quoted;
  // Unbuffered: pip's lines reach the progress display as they are printed, not when the install ends.
  const pip = `PYTHONUNBUFFERED=1 "$sr_env/bin/python" -m pip ${verb} --disable-pip-version-check --no-input ${verb === "uninstall" ? "-y " : ""}${args}`;
  const uv = verb === "install" ? `sr_uv_install ${args}` : `"$sr_uv" pip ${verb} --python "$sr_env/bin/python" ${args}`;
  return `if [ -n "$sr_uv" ]; then ${uv}; else ${pip}; fi 1>&2`;
}

// Creates the env with the interpreter `python` (a shell word), or runs `onFail` (also when `check` fails).
function createCommands(python: string, installPython: boolean, onFail: string, check = ""): string {
  const provision = installPython ? `"$sr_uv" python install ${python} 1>&2 || ${failAt("python")}\n    ` : "";
  const downloads = installPython ? "" : " --no-python-downloads";
  return `${provision}if [ -n "$sr_uv" ]; then
      "$sr_uv" venv --allow-existing${downloads} --python ${python} "$sr_env" 1>&2
    else
      ${python} -m venv "$sr_env" 1>&2
    fi${check && ` && ${check}`} || ${onFail}
    ${step("created")}`;
}

function installUvCommands(envDir: string): string {
  const uv = userUvPath(envDir);
  const venv = uv.replace(/\/bin\/uv$/, "");
  return `if [ -z "$sr_uv" ]; then
  (umask 077 && mkdir -p ${quote(venv)}) && python3 -m venv ${quote(venv)} 1>&2 && ${quote(`${venv}/bin/python`)} -m pip install --disable-pip-version-check -q uv 1>&2 || ${failAt("uv")}
  sr_uv=${quote(uv)}
fi`;
}

// Everything in the env but the lock file (the lock is held on it).
const EMPTY_ENV = `find "$sr_env" -mindepth 1 -maxdepth 1 ! -name ${LOCK_FILE} -exec rm -rf {} +`;

type ApplySteps = Omit<ApplyInput, "uv" | "create">;

// The locked part, expecting $sr_env and $sr_uv; `create` makes the env when it has no interpreter.
function applySteps(input: ApplySteps, create: string): string[] {
  const stamp = `"$sr_env/${STAMP_FILE}"`;
  return [
    // The env is for jobs, which run without what the login environment sets of these: pip would take a
    // package it finds through a PYTHONPATH there for installed, and never install it.
    `unset ${PYTHON_IMPORT_VARIABLES.join(" ")}`,
    input.installUv ? installUvCommands(input.envDir) : "",
    siteInstallerFunction(),
    `(umask 077 && mkdir -p "$sr_env") || ${failAt("mkdir")}`,
    lockFamily(failAt("lock")),
    // Another sync may have made a new generation current while this one waited.
    RESOLVE_ENV,
    "sr_cur=$sr_env",
    input.inUse ? movedSince(input.seenStampId ?? "") : "",
    // A rebuild asked for is done even when the env already satisfies the snapshot.
    // The stamp vouches for the env only while its distributions are as it records (SITE_SUM).
    `if ${input.recreate || input.ignoreStamp ? "false" : "true"} && ${stampMatches({ matchHash: input.stamp.hash })}; then`,
    `  ${step("already")}`,
    "else",
    // Beside a used env: a fresh env with uv (or for a rebuild), else a clone plus the delta (generations.ts).
    "sr_fresh=",
    input.inUse
      ? `  if { ${input.inUse.claimed || input.inUse.shared ? "true" : isOneOf(input.inUse.dirs)} || [ -n "$sr_moved" ]; } && [ -e "$sr_env/bin/python" ]; then\n` +
        `    if ${input.recreate ? "true" : "false"} || [ -n "$sr_uv" ]; then sr_fresh=1; fi\n${buildBeside(failAt("beside"))}\n  fi`
      : "",
    `  rm -f ${stamp} || ${failAt("stamp")}`,
    `  ${input.recreate ? "" : '[ -e "$sr_env/bin/python" ] && [ ! -x "$sr_env/bin/python" ] && '}${EMPTY_ENV}`,
    `  if [ ! -x "$sr_env/bin/python" ]; then\n    ${create}\n  fi`,
    input.fresh ? `  if [ -n "$sr_fresh" ]; then\n${installSteps({ ...input.fresh, uninstall: [], indexOptions: input.indexOptions })}\n  else` : "",
    installSteps(input),
    input.fresh ? "  fi" : "",
    // The stamp's JSON with the env's checksum as its last field, taken after the install.
    `  printf '%s,"site":"%s"}\\n' ${quote(stampLine(input.stamp).slice(0, -1))} "${SITE_SUM}" > "$sr_env/.stamp.$$" && mv -f "$sr_env/.stamp.$$" ${stamp} || ${failAt("stamp")}`,
    `  [ "$sr_env" = "$sr_cur" ] || { ${switchCurrent(failAt("switch"))}; }`,
    `  ${step("done")}`,
    "fi",
    wrapSection(DIST_SECTION, [input.inUse && !input.inUse.claimed ? retireStale(input.inUse.dirs, true, input.inUse.shared) : "", `printf 'envdir %s\\n' "$sr_env"`, DIST_INFO_SNIPPET].filter(Boolean).join("\n")),
  ];
}

// Uninstall, then install with the constraints written beside.
function installSteps(input: Pick<ApplyInput, "uninstall" | "install" | "constraints" | "indexOptions">): string {
  return [
    input.uninstall.length > 0 ? `  ${installerCommand("uninstall", input.uninstall, {})} || ${failAt("uninstall")}` : "",
    input.install.length > 0 ? writeConstraints(input.constraints) : "",
    input.install.length > 0 ? `  ${installerCommand("install", input.install, input.indexOptions, input.constraints.length > 0)} || ${failAt("install")}` : "",
  ]
    .filter(Boolean)
    .join("\n") || "  :";
}

const script = (lines: readonly string[]): string => `${lines.filter(Boolean).join("\n")}\n`;

/** The script (run with `sh -s`). Exits 0 with the "done" or "already" marker, or 1 with "fail:<step>". */
export function applyScript(input: ApplyInput): string {
  const create = createCommands(quote(input.create.python), input.create.installPython, failAt("create"));
  return script([`sr_base=${quote(input.envDir)}`, RESOLVE_ENV, `sr_uv=${quote(input.uv ?? "")}`, ...applySteps(input, create)]);
}

export type FirstContactInput = Omit<ApplySteps, "recreate" | "uninstall"> & {
  /** The snapshot's Python major.minor. */
  python: string;
};

/**
 * The first sync of an env this machine knows nothing about, in ONE command: the probe, and in the same
 * script, when the env is missing and python<major.minor> is on PATH, the apply script creating it with that
 * Python and installing the whole snapshot (the installer resolves it). Otherwise — the env exists, is
 * broken, or no such Python is there, or it made an env of another version — it prints the probe's "env"
 * section (see parseEnvProbe), so that the caller plans and applies as after any probe.
 */
export function firstContactScript(input: FirstContactInput): string {
  // A failed creation leaves no half-made env behind, and the printed state says so.
  const fallBack = `{\n${EMPTY_ENV}\n${envSection(`echo missing\n${listPythons(input.python)}`)}exit 0\n}`;
  const made = `[ -d "$sr_env"/${quote(`lib/python${input.python}`)} ]`;
  const matches = stampMatches({ matchHash: input.stamp.hash });
  return script([
    envVariables(input.envDir),
    `if ${matches ?? "false"}; then`,
    envSection(PRINT_STAMP),
    `elif [ ! -e "$sr_env/bin/python" ] && sr_py=$(command -v ${quote(`python${input.python}`)}) && [ -x "$sr_py" ]; then`,
    ...applySteps({ ...input, recreate: false, uninstall: [] }, createCommands('"$sr_py"', false, fallBack, made)),
    "else",
    envSection(fullStateSnippet(input.python)),
    "fi",
  ]);
}

/**
 * Runs an apply (or first-contact) script as ONE remote command. With `onProgress`, the installer's lines are
 * read as they come and what they say goes there ("installed scipy (3 of 7)"; see install-progress.ts);
 * `install` are the requirements the script installs. The result is read as without it.
 */
export function runApplyScript(
  transport: Transport,
  script: string,
  options: { install: readonly string[]; signal?: AbortSignal | undefined; onProgress?: ((text: string) => void) | undefined },
): Promise<ExecResult> {
  const { signal, onProgress } = options;
  return transport.script(script, [], {
    ...(signal ? { signal } : {}),
    ...(onProgress ? { stderr: progressSink(options.install.map((line) => parseRequirement(line).name), onProgress) } : {}),
  });
}

/** Reads the script's result; throws an EnvSyncError saying what failed and how to fix it. */
export function parseApplyOutput(
  result: ExecResult,
  input: Pick<ApplyInput, "envDir" | "install" | "uninstall"> & { requirementsFile?: string | undefined },
): ApplyOutcome {
  const failed = /@@slurmray:apply:fail:([a-z]+)@@/.exec(result.stdout)?.[1];
  const finished = result.stdout.includes(STEP("done")) || result.stdout.includes(STEP("already"));
  if (failed === "install" || failed === "uninstall") {
    const names = input.install.map((line) => parseRequirement(line).name);
    throw installFailure(result.stderr, [...names, ...input.uninstall], input.envDir, input.requirementsFile);
  }
  if (failed || !finished || result.code !== 0) {
    const what = failed ? `step "${failed}"` : `exit code ${result.code}`;
    const detail = result.stderr.trim().split("\n").slice(-15).join("\n");
    throw new EnvSyncError(
      failed === "python" ? "python" : "other",
      `Preparing the remote env ${input.envDir} failed (${what}); the env will be repaired on the next run.\n${detail}`,
      result.stderr,
    );
  }
  const listed = sectionLines(result.stdout, DIST_SECTION) ?? [];
  return {
    already: result.stdout.includes(STEP("already")),
    created: result.stdout.includes(STEP("created")),
    distributions: parseDistInfo(listed),
    envDir: listed.find((line) => line.startsWith("envdir "))?.slice(7) ?? null,
    retired: parseRetired(listed.join("\n")),
    warnings: [pipFallbackWarning(result.stderr, input.envDir)].filter((w): w is string => w !== null),
  };
}
