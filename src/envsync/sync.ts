// Keeping a remote env in step with a snapshot (DESIGN.md, "The environment engine", steps 2–5):
// probe (or use the batched probe), fast path when the stamp matches, else plan against the remote state
// (from the local cache while the stamp id matches) and run ONE apply script. On first contact (no batched
// probe, nothing cached) the probe and the creation of a missing env go in one command. When the installer
// reports that pinned versions have no distribution for the remote (unavailable.ts), the sync is done again
// without them, they are listed in env.skipped, and the local cache remembers them so that later plans leave
// them out at once.
import type { ExecResult, Transport } from "../transport/types.js";
import { sectionLines } from "../util/sections.js";
import { InputError } from "../util/errors.js";
import { type ApplyInput, applyScript, type CreateWith, type FirstContactInput, firstContactScript, parseApplyOutput, runApplyScript } from "./apply.js";
import { type EnvCacheKey, readEnvCache, writeEnvCache } from "./cache.js";
import { majorMinor, type ProbedEnvironment } from "./distributions.js";
import { type Parity, parityFor, type SkippedDistribution, skippedAfterInstall } from "./parity.js";
import { installArgs, type Plan, type PlanEntry, planEnvironment, reinstallNames, uninstallArgs } from "./plan.js";
import { ENV_SECTION, envProbeSnippet, parseEnvProbe, probeRemoteEnv, type RemoteEnvProbe, type RemotePython } from "./remote-state.js";
import { normalizeName } from "./requirements/names.js";
import { parseRequirement } from "./requirements/requirement.js";
import type { IndexOptions, Snapshot } from "./snapshot.js";
import { newStamp, type Stamp } from "./stamp.js";
import type { EnvsInUse } from "./generations.js";
import { EnvSyncError } from "./errors.js";
import { type Pin, pinsOf, stillPinned, topLevelUnavailable, topLevelWarning, unavailablePins, unavailableReason, withoutUnavailable } from "./unavailable.js";

export interface EnvTarget extends EnvCacheKey {
  /** Absolute remote path: <base>/envs/<project>-py<major.minor>. */
  envDir: string;
  snapshot: Snapshot;
}

export interface SyncOptions extends EnvTarget {
  strictVersions: boolean;
  exact: boolean;
  forceReinstall: boolean;
  allowPythonInstall: boolean;
  installUv: boolean;
  indexOptions?: IndexOptions;
  /** The output of a batched command that included envProbeFor(...) (the "env" section). */
  probe?: string;
  /**
   * Which envs of this family jobs use, asked only when the env must change: a used env is never changed
   * (the next one is built beside it), and unused old ones are removed. Absent: the env is changed in place
   * and nothing is removed.
   */
  envsInUse?: () => Promise<EnvsInUse>;
  signal?: AbortSignal;
  /** What the installer is doing, as it goes ("installed scipy (3 of 7)"), for the progress display only. */
  onInstallProgress?: (text: string) => void;
}

export interface EnvReport {
  /** The env's dir now (its current generation): jobs submitted after this sync use `<envDir>/bin/python`. */
  envDir: string;
  /** Old generations removed because no pending or running job used them. */
  retired: string[];
  created: boolean;
  /** The env existed, whole (stamped), before this sync. */
  reused: boolean;
  installed: string[];
  changed: { name: string; from: string | null; to: string | null }[];
  removed: string[];
  /**
   * Local distributions the remote env cannot hold, with why: a marker false there (parity.ts), or no wheel
   * or sdist of the local version for the remote platform (unavailable.ts).
   */
  skipped: SkippedDistribution[];
  unchanged: number;
  seconds: number;
  remote_commands: number;
  /** null on the fast path (nothing was planned). */
  plan: Plan | null;
  /** Said once to the user (for example: uv could not reach the index and pip installed instead). */
  warnings?: string[];
}

export interface EnvDiff {
  /** The env does not exist on the target yet. */
  missing: boolean;
  plan: Plan;
  /** As EnvReport.skipped; empty while the env is missing (the remote's interpreter is not known yet). */
  skipped: SkippedDistribution[];
}

/** The stamp id the cached state was read under, when a state is cached. */
function cachedStampId(key: EnvCacheKey): string | undefined {
  const cached = readEnvCache(key);
  return cached?.state ? cached.stampId : undefined;
}

/** The probe snippet to batch into the job's first remote command; pass its output back as `probe`. */
export function envProbeFor(target: EnvTarget): string {
  return envProbeSnippet({
    envDir: target.envDir,
    python: target.snapshot.pythonVersion,
    matchHash: target.snapshot.hash,
    matchStampId: cachedStampId(target),
  });
}

interface RemoteView {
  /** The env's distributions and markers, or null when there is no working env. */
  state: ProbedEnvironment | null;
  stamp: Stamp | null;
  uv: string | null;
  pythons: RemotePython[];
}

/** The remote state behind a probe, completed from the local cache when the probe printed only the stamp. */
async function remoteView(transport: Transport, target: EnvTarget, probe: RemoteEnvProbe): Promise<RemoteView> {
  if (probe.kind === "missing") return { state: null, stamp: null, uv: probe.uv, pythons: probe.pythons };
  if (probe.kind === "state") return { state: probe.state, stamp: probe.stamp, uv: probe.uv, pythons: [] };
  const cached = readEnvCache(target);
  if (cached?.state && cached.stampId === probe.stamp.id) {
    return { state: cached.state, stamp: probe.stamp, uv: probe.uv, pythons: [] };
  }
  // Only the stamp came back (it matched the snapshot hash) but the state is needed: ask for it in full.
  return remoteView(transport, target, await probeRemoteEnv(transport, { envDir: target.envDir }));
}

function pythonList(pythons: readonly RemotePython[]): string {
  if (pythons.length === 0) return "none found";
  return pythons.map((python) => `${python.version} (${python.path})`).join(", ");
}

/** How to create the env, or an InputError when the remote has no Python of the snapshot's major.minor. */
function createWith(view: RemoteView, options: SyncOptions): CreateWith {
  const wanted = options.snapshot.pythonVersion;
  if (view.state) return { python: `python${wanted}`, installPython: false };
  const found = view.pythons.find((python) => majorMinor(python.version) === wanted);
  if (found) return { python: found.path, installPython: false };
  if (options.allowPythonInstall && (view.uv || options.installUv)) return { python: wanted, installPython: true };
  const fix = options.allowPythonInstall
    ? "installing it needs uv: install uv on the target or set install_uv = true"
    : `load or install Python ${wanted} there, set project.python to one of these, or set allow_python_install = true for the target to let slurmray install it with uv`;
  throw new InputError(
    `The target has no Python ${wanted} (the project's Python) to create the env ${options.envDir}. ` +
      `Pythons found on the target: ${pythonList(view.pythons)}. To fix: ${fix}.`,
  );
}

interface Planned {
  plan: Plan;
  parity: Parity;
}

/** The plan against the env's state: the requirements, and the local versions of what they need there. */
function planFor(options: Pick<SyncOptions, "snapshot" | "strictVersions" | "exact">, state: ProbedEnvironment): Planned {
  const parity = parityFor(options.snapshot, state.markers);
  const plan = planEnvironment({
    wanted: [...options.snapshot.requirements, ...parity.constraints],
    installed: state.distributions.map((d) => ({ name: d.name, version: d.version, directUrl: d.direct_url, requires: d.requires })),
    environment: state.markers,
    options: { strictVersions: options.strictVersions, exact: options.exact },
  });
  return { plan, parity };
}

/** The requirements a plan left out for their markers, as skipped distributions. */
function skippedByMarker(plan: Plan): SkippedDistribution[] {
  return plan.entries
    .filter((entry) => entry.action === "skip-marker")
    .map((entry) => ({ name: entry.name, version: parseRequirement(entry.requirement).specifier.replace(/^==/, "") || null, reason: entry.reason }));
}

type ReportFields = Pick<EnvReport, "envDir" | "created" | "reused" | "skipped"> & Partial<Pick<EnvReport, "retired">>;

function report(plan: Plan | null, fields: ReportFields, started: number, commands: number): EnvReport {
  const entries = plan?.entries ?? [];
  const named = (action: PlanEntry["action"]): PlanEntry[] => entries.filter((entry) => entry.action === action);
  return {
    envDir: fields.envDir,
    retired: fields.retired ?? [],
    created: fields.created,
    reused: fields.reused,
    installed: named("install").map((entry) => entry.name),
    changed: entries
      .filter((entry) => entry.action === "upgrade" || entry.action === "downgrade")
      .map(({ name, from, to }) => ({ name, from, to })),
    removed: named("remove").map((entry) => entry.name),
    skipped: fields.skipped,
    unchanged: named("keep").length,
    seconds: (performance.now() - started) / 1000,
    remote_commands: commands,
    plan,
  };
}

const MAJOR_MINOR = /^\d+\.\d+$/;

/** What the env was before an apply script, for reading its result. */
interface Before {
  state: ProbedEnvironment | null;
  stamp: Stamp | null;
  plan: Plan | null;
  /** What parity found before the install (null: a new env, known only after it). */
  skipped: SkippedDistribution[] | null;
}

// A pin found unavailable is left out and the sync done again. uv and pip report one such pin at a time, so
// each round may find another; every round must find a new one, and a few is the most a real env has.
const MAX_RETRIES = 4;

/** The pins an install failure reports as unavailable on the remote; empty for any other failure. */
function newlyUnavailable(error: unknown, installable: Snapshot): Pin[] {
  if (!(error instanceof EnvSyncError) || error.failure !== "package") return [];
  return unavailablePins(error.stderr, pinsOf([...installable.requirements, ...(installable.constraints ?? [])]));
}

/** Brings the remote env in step with the snapshot; see the module comment. */
export async function syncEnv(transport: Transport, options: SyncOptions): Promise<EnvReport> {
  const started = performance.now();
  const commandsBefore = transport.commandCount;
  const commands = (): number => transport.commandCount - commandsBefore;
  // Pins found unavailable by an earlier sync of this env; --force-reinstall tries them all again.
  let unavailable = options.forceReinstall ? [] : stillPinned(options.snapshot, readEnvCache(options)?.unavailable ?? []);
  let round = options;
  for (let retries = 0; ; retries++) {
    try {
      return await syncRound(transport, round, unavailable, started, commands);
    } catch (error) {
      const found = retries < MAX_RETRIES ? newlyUnavailable(error, withoutUnavailable(options.snapshot, unavailable)) : [];
      if (found.length === 0) throw error;
      unavailable = [...unavailable, ...found];
      // The failed install removed the stamp a batched probe saw: the next round probes again.
      round = { ...options };
      delete round.probe;
    }
  }
}

/** One attempt, leaving out the `unavailable` pins. */
async function syncRound(transport: Transport, options: SyncOptions, unavailable: readonly Pin[], started: number, commands: () => number): Promise<EnvReport> {
  const { snapshot, forceReinstall } = options;
  // What is installed: the snapshot without the unavailable pins, under the snapshot's hash (the stamp's).
  const installable = withoutUnavailable(snapshot, unavailable);
  const installOptions = { ...options, snapshot: installable };
  const warnings = [topLevelWarning(snapshot, unavailable)].filter((w): w is string => w !== null);
  const run = (script: string, install: readonly string[]): Promise<ExecResult> =>
    runApplyScript(transport, script, { install, signal: options.signal, onProgress: options.onInstallProgress });
  const applied = (result: ExecResult, input: ApplyInput | FirstContactInput, before: Before): EnvReport => {
    const outcome = parseApplyOutput(result, { uninstall: [], ...input, requirementsFile: snapshot.file });
    const where = { envDir: outcome.envDir ?? options.envDir, retired: outcome.retired };
    if (outcome.already) {
      writeEnvCache(options, null); // The other sync's stamp id is not known here.
      return { ...report(null, { ...where, created: false, reused: true, skipped: [] }, started, commands()), warnings: outcome.warnings };
    }
    // The state after: the same interpreter (markers), the listed distributions; a fresh env is probed in full
    // the next time it needs planning (its entry only says it is known).
    const known = new Map(before.state?.distributions.map((d) => [`${normalizeName(d.name)} ${d.version}`, d.requires]));
    const distributions = outcome.distributions.map((d) => ({ ...d, requires: known.get(`${normalizeName(d.name)} ${d.version}`) ?? [] }));
    const { plan, state } = before;
    const done = plan ?? freshPlan(installable, distributions);
    const reason = unavailableReason(state?.markers ?? null);
    const skipped = [
      ...skippedByMarker(done),
      ...(before.skipped ?? skippedAfterInstall(installable, distributions.map((d) => d.name))),
      ...unavailable.map((pin) => ({ ...pin, reason })),
    ];
    const entry = { stampId: input.stamp.id, state: plan && state ? { ...state, distributions } : null, skipped };
    writeEnvCache(options, unavailable.length > 0 ? { ...entry, unavailable: [...unavailable] } : entry);
    const fields = { ...where, created: outcome.created, reused: !outcome.created && before.stamp !== null, skipped };
    return { ...report(done, fields, started, commands()), warnings: [...warnings, ...outcome.warnings] };
  };

  let probe: RemoteEnvProbe;
  if (options.probe) {
    probe = parseEnvProbe(options.probe);
  } else if (!forceReinstall && !options.exact && MAJOR_MINOR.test(snapshot.pythonVersion) && !readEnvCache(options)) {
    // First contact (nothing known about the env here): the probe and, when the env is missing, its creation
    // in one command.
    const input: FirstContactInput = { ...applyParts(installOptions), python: snapshot.pythonVersion };
    const result = await run(firstContactScript(input), input.install);
    if (!sectionLines(result.stdout, ENV_SECTION)) return applied(result, input, { state: null, stamp: null, plan: null, skipped: null });
    probe = parseEnvProbe(result.stdout);
  } else {
    // --exact acts whatever the stamp says, and needs every distribution's requirements, which only a full
    // probe reads (the cache may lack them).
    const trustStamp = !forceReinstall && !options.exact;
    probe = await probeRemoteEnv(transport, {
      envDir: options.envDir,
      python: snapshot.pythonVersion,
      ...(trustStamp ? { matchHash: snapshot.hash, matchStampId: cachedStampId(options) } : {}),
    });
  }
  const stampBefore = probe.kind === "missing" ? null : probe.stamp;
  // Only a probe that printed the stamp alone vouches for the env: with a full state, its distributions
  // changed since the stamp was written (SITE_SUM), and the plan is made from what is really there.
  if (!forceReinstall && !options.exact && probe.kind === "stamp" && probe.stamp.hash === snapshot.hash) {
    const cached = readEnvCache(options);
    const skipped = cached?.stampId === probe.stamp.id ? (cached.skipped ?? []) : [];
    const unchanged = snapshot.requirements.length + (snapshot.constraints?.length ?? 0) - skipped.length;
    const envDir = probe.envDir ?? options.envDir;
    return { ...report(null, { envDir, created: false, reused: true, skipped }, started, commands()), unchanged, warnings };
  }

  const view = await remoteView(transport, options, probe);
  const stale = view.state !== null && majorMinor(view.state.python) !== snapshot.pythonVersion;
  const recreate = forceReinstall || stale;
  const fresh = recreate || view.state === null;
  // A fresh env is planned by the installer itself: requirements go with their markers, which it evaluates,
  // and every constraint, which it applies to what it installs.
  const planned = fresh ? null : planFor(installOptions, view.state!);
  const plan = planned?.plan ?? null;
  // A top-level distribution left out as unavailable is not left in the env at another version either: the
  // job would import that one where the warning says it cannot import any.
  const installed = new Set(view.state?.distributions.map((d) => normalizeName(d.name)));
  const leftBehind = topLevelUnavailable(snapshot, unavailable)
    .map((pin) => pin.name)
    .filter((name) => installed.has(name));
  const input: ApplyInput = {
    ...applyParts(installOptions),
    uv: view.uv,
    installUv: options.installUv && !view.uv,
    recreate,
    ignoreStamp: options.exact,
    create: createWith(view, options),
    uninstall: plan ? [...new Set([...uninstallArgs(plan), ...reinstallNames(plan), ...leftBehind])] : [],
    install: plan ? installArgs(plan) : installable.requirements,
    constraints: (planned?.parity ?? parityFor(installable, null)).constraints,
    ...(options.envsInUse ? { inUse: await options.envsInUse(), seenStampId: stampBefore?.id ?? "", fresh: applyParts(installOptions) } : {}),
  };
  const skipped = planned?.parity.skipped ?? null;
  return applied(await run(applyScript(input), input.install), input, { state: view.state, stamp: stampBefore, plan, skipped });
}

/** What every apply script gets: a new stamp, the whole snapshot to install with its constraints, the index options. */
function applyParts(options: SyncOptions): Omit<FirstContactInput, "python"> {
  const { snapshot } = options;
  return {
    envDir: options.envDir,
    stamp: newStamp(snapshot),
    installUv: options.installUv,
    install: snapshot.requirements,
    constraints: parityFor(snapshot, null).constraints,
    indexOptions: { ...snapshot.indexOptions, ...options.indexOptions },
  };
}

/** What a fresh env got: each requirement installed, or skipped by the installer for its marker. */
function freshPlan(snapshot: Snapshot, distributions: readonly { name: string; version: string }[]): Plan {
  const installed = new Map(distributions.map((d) => [normalizeName(d.name), d.version]));
  const entries = snapshot.requirements.map((line): PlanEntry => {
    const requirement = parseRequirement(line);
    const version = installed.get(normalizeName(requirement.name));
    const to = requirement.url ?? (requirement.specifier || null);
    return version === undefined
      ? { name: requirement.name, action: "skip-marker", from: null, to: null, requirement: line, reason: `marker ${requirement.marker} is false on the remote` }
      : { name: requirement.name, action: "install", from: null, to, requirement: line, reason: `installed ${version} into the new env` };
  });
  return { entries };
}

/**
 * The plan with its reasons, changing nothing (for `slurmray env diff`): from a full probe, so that what the
 * remote holds beyond the snapshot, and what needs it there, is read from the env itself.
 */
export async function diffEnv(
  transport: Transport,
  options: Omit<SyncOptions, "forceReinstall" | "probe" | "signal" | "installUv" | "allowPythonInstall">,
): Promise<EnvDiff> {
  const probe = await probeRemoteEnv(transport, { envDir: options.envDir });
  const view = await remoteView(transport, options, probe);
  const sameVersion = view.state !== null && majorMinor(view.state.python) === options.snapshot.pythonVersion;
  if (view.state && sameVersion) {
    // What an earlier sync found unavailable there is left out, as the next sync will.
    const unavailable = stillPinned(options.snapshot, readEnvCache(options)?.unavailable ?? []);
    const { plan, parity } = planFor({ ...options, snapshot: withoutUnavailable(options.snapshot, unavailable) }, view.state);
    const reason = unavailableReason(view.state.markers);
    return { missing: false, plan, skipped: [...skippedByMarker(plan), ...parity.skipped, ...unavailable.map((pin) => ({ ...pin, reason }))] };
  }
  const reason = view.state ? `the env has Python ${view.state.python}; it will be rebuilt` : "the env does not exist yet";
  const entries: PlanEntry[] = options.snapshot.requirements.map((line) => {
    const requirement = parseRequirement(line);
    return { name: requirement.name, action: "install", from: null, to: requirement.url ?? (requirement.specifier || null), requirement: line, reason };
  });
  return { missing: view.state === null, plan: { entries }, skipped: [] };
}
