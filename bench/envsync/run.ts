// Env sync benchmark against the test-bed sshd (one multiplexed OpenSSH connection). Every baseline uses the
// installer slurmray used (uv against uv, pip against pip: the remote without uv on PATH), in its own
// venvs, so that no baseline changes the env slurmray measures and no slurmray sync changes a baseline's.
// Each figure is the median of several runs.
//   1. The engine (syncEnv over the transport), 30 tiny packages from the hermetic wheel index, per installer:
//      (a) no change                      vs the installer's own no-op install -r in an up-to-date venv
//      (b) one changed package            vs a full install (new venv + install -r) with that change
//      (c) a cold build                   vs the same full install
//      (d) one changed while a job holds the env (built beside it) vs the same full install
//   2. The realistic stack (numpy, scipy, scikit-learn, pandas, from a local wheelhouse), per installer:
//      cold, no change, one changed (pandas 2.2.2 <-> 2.2.3) and one changed while a job holds the env.
//   3. What the user waits for: `slurmray env sync` from start to end (node, config, the local snapshot,
//      ssh, remote), with a warm and a cold local snapshot cache, against the installer run over a new ssh.
// The wheelhouse is downloaded once with pip download into /tmp/sr-bench-envsync/wheelhouse.
// Usage: bash scripts/test-cluster.sh up && npm run build && npx tsx bench/envsync/run.ts [runs=5] [stack_runs=3] [stack_pip_runs=1]
// (a count of 0 leaves those cases out).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Snapshot, snapshotHash } from "../../src/envsync/snapshot.js";
import { type SyncOptions, syncEnv } from "../../src/envsync/sync.js";
import { OpenSshTransport } from "../../src/transport/openssh.js";
import type { Transport } from "../../src/transport/types.js";
import { quote } from "../../src/util/shell.js";
import { CLI } from "../../test/helpers/cli.js";
import { sshArgs, type TestBed, testbed } from "../../test/helpers/testbed.js";
import { testbedToml } from "../../test/helpers/testbed-project.js";
import { withoutUv } from "../../test/helpers/transports.js";
import { MANY, wheelIndex } from "../../test/helpers/wheel-index.js";

const RUNS = Number(process.argv[2] ?? 5);
const STACK_RUNS = Number(process.argv[3] ?? 3);
// pip's full installs of the stack take tens of seconds each on this shared machine.
const STACK_PIP_RUNS = Number(process.argv[4] ?? 1);
const WORK = "/tmp/sr-bench-envsync";
const WHEELHOUSE = `${WORK}/wheelhouse`;
const PLATFORM = ["--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux_2_28_x86_64"];
const STACK = (pandas: string): string[] => ["numpy==2.4.6", `pandas==${pandas}`, "scikit-learn==1.9.1", "scipy==1.17.1"];

function snapshotOf(requirements: string[]): Snapshot {
  const sorted = [...requirements].sort();
  return { requirements: sorted, hash: snapshotHash("3.11", sorted), pythonVersion: "3.11", editablesOutside: [], source: "bench" };
}

const pins = (version: string): string[] => MANY.map((pkg) => (pkg === "pkg17" ? `pkg17==${version}` : `${pkg}==1.0`));

async function time(action: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await action();
  return (performance.now() - start) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The wheels of the realistic stack, downloaded once (both pandas versions). */
function ensureWheelhouse(): void {
  const have = existsSync(WHEELHOUSE) ? readdirSync(WHEELHOUSE) : [];
  if (have.some((f) => f.startsWith("pandas-2.2.3")) && have.some((f) => f.startsWith("scikit_learn-1.9.1"))) return;
  mkdirSync(WHEELHOUSE, { recursive: true });
  const pip = (args: string[]): void => void execFileSync("python3.11", ["-m", "pip", "download", "-q", ...PLATFORM, "-d", WHEELHOUSE, ...args], { stdio: "inherit" });
  pip(STACK("2.2.2"));
  pip(["--no-deps", "pandas==2.2.3"]);
}

interface Installer {
  name: "uv" | "pip";
  transport: Transport;
  /** A new venv at `dir` with everything in `requirements` (a remote file). */
  full(dir: string, requirements: string, index: string): string;
  /** install -r into an existing, up-to-date venv: the installer's no-op. */
  install(dir: string, requirements: string, index: string): string;
}

function installers(transport: Transport): Installer[] {
  const python = (dir: string): string => quote(`${dir}/bin/python`);
  const uvInstall = (dir: string, req: string, index: string): string => `uv pip install -q --python ${python(dir)} ${index} -r ${quote(req)}`;
  const pipInstall = (dir: string, req: string, index: string): string =>
    `${python(dir)} -m pip install -q --disable-pip-version-check ${index} -r ${quote(req)}`;
  return [
    { name: "uv", transport, install: uvInstall, full: (dir, req, index) => `uv venv -q --python python3.11 ${quote(dir)} && ${uvInstall(dir, req, index)}` },
    {
      name: "pip",
      transport: withoutUv(transport),
      install: pipInstall,
      full: (dir, req, index) => `python3.11 -m venv ${quote(dir)} && ${pipInstall(dir, req, index)}`,
    },
  ];
}

interface Measured {
  slurmray: number[];
  baseline: number[];
}

const measured = (): Measured => ({ slurmray: [], baseline: [] });
function row(label: string, m: Measured, baselineLabel: string, goal: string): void {
  const s = median(m.slurmray);
  const b = median(m.baseline);
  const ratio = b >= s ? `${(b / s).toFixed(1)}x faster` : `${(s / b).toFixed(2)}x its time`;
  const line = `${label.padEnd(58)} slurmray ${s.toFixed(3)} s   ${baselineLabel} ${b.toFixed(3)} s   ${ratio}   (goal ${goal})`;
  console.log(line);
}

async function main(): Promise<void> {
  const bed = testbed();
  if (!bed) throw new Error("test bed not running: bash scripts/test-cluster.sh up");
  if (!existsSync(CLI)) throw new Error("build first: npm run build");
  ensureWheelhouse();
  const index = await wheelIndex();
  const cacheDir = mkdtempSync(join(tmpdir(), "sr-bench-"));
  const controlDir = mkdtempSync("/tmp/srb-");
  const transport = new OpenSshTransport({ host: "srtb", sshConfigFile: bed.sshConfig, controlDir });
  await transport.connect();
  const base = (await transport.exec(["mktemp", "-d", "/tmp/sr-bench-XXXXXX"])).stdout.trim();
  const must = async (t: Transport, script: string): Promise<string> => {
    const result = await t.script(script);
    if (result.code !== 0) throw new Error(`bench step failed (${result.code}): ${script}\n${result.stderr}`);
    return result.stdout;
  };
  const writeRequirements = (file: string, lines: string[]): Promise<string> => must(transport, `printf '%s\\n' ${lines.map(quote).join(" ")} > ${quote(file)}`);
  const distributions = (dir: string): Promise<string> => must(transport, `ls ${quote(dir)}/lib/python3.11/site-packages | grep dist-info`);
  let dirs = 0;
  const fresh = (name: string): string => `${base}/${name}-${++dirs}`;
  const options = (t: Transport, snapshot: Snapshot, envDir: string, findLinks: string[] = []): SyncOptions & { transport: Transport } => ({
    transport: t,
    envDir,
    snapshot,
    strictVersions: true,
    exact: false,
    forceReinstall: false,
    allowPythonInstall: false,
    installUv: false,
    indexOptions: { indexUrl: index.url, findLinks },
    cacheDir,
    targetKey: "bench",
  });
  const sync = ({ transport: t, ...rest }: ReturnType<typeof options>) => syncEnv(t, rest);

  /** The four engine cases for one installer and one set of requirements with one package that flips. */
  const engineCases = async (installer: Installer, label: string, versions: [string[], string[]], findLinks: string[], runs: number): Promise<void> => {
    if (runs === 0) return;
    const t = installer.transport;
    const indexArgs = [`--index-url ${quote(index.url)}`, ...findLinks.map((dir) => `--find-links ${quote(dir)}`)].join(" ");
    const [reqA, reqB] = [`${base}/req-${label}-a.txt`, `${base}/req-${label}-b.txt`];
    await writeRequirements(reqA, versions[0]);
    await writeRequirements(reqB, versions[1]);
    const family = `${base}/envs/${label}-${installer.name}-py3.11`;
    const at = (i: number): { snapshot: Snapshot; req: string } => (i % 2 === 0 ? { snapshot: snapshotOf(versions[0]), req: reqA } : { snapshot: snapshotOf(versions[1]), req: reqB });
    const [a, b, c, d] = [measured(), measured(), measured(), measured()];
    // The baseline's no-op venv, made by the installer itself and checked unchanged after each no-op.
    const noopVenv = fresh(`noop-${installer.name}`);
    await must(t, installer.full(noopVenv, reqA, indexArgs));
    const noopState = await distributions(noopVenv);
    let state = 0;
    let envDir = family;
    await sync(options(t, at(0).snapshot, family, findLinks));
    for (let run = 0; run < runs; run++) {
      // (a) nothing changed.
      const noop = await time(async () => {
        const report = await sync(options(t, at(state).snapshot, family, findLinks));
        if (!report.reused || report.plan !== null) throw new Error("the no-change sync planned something");
      });
      a.slurmray.push(noop);
      a.baseline.push(await time(() => must(t, installer.install(noopVenv, reqA, indexArgs))));
      if ((await distributions(noopVenv)) !== noopState) throw new Error(`the ${installer.name} no-op changed its venv`);
      // (b) one package flips (no job holds the env: changed in place).
      state++;
      b.slurmray.push(await time(() => sync(options(t, at(state).snapshot, family, findLinks))));
      const full = fresh(`full-${installer.name}`);
      b.baseline.push(await time(() => must(t, installer.full(full, at(state).req, indexArgs))));
      // (d) it flips again while a job holds the env: the next generation is built beside it.
      state++;
      const held = envDir;
      const beside = await time(async () => {
        envDir = (await sync({ ...options(t, at(state).snapshot, family, findLinks), envsInUse: async () => ({ dirs: [held], claimed: false, shared: false }) })).envDir;
      });
      if (envDir === held) throw new Error("the env held by a job was changed in place");
      d.slurmray.push(beside);
      // The sync returned before removing the generation it retired (in the background): the baselines and
      // the cold build after it are measured once that removal is over, not racing it for the disk.
      await must(t, `while [ -n "$(find ${quote(`${base}/envs`)} -maxdepth 1 -name '*.trash' -print -quit)" ]; do sleep 0.05; done`);
      d.baseline.push(await time(() => must(t, installer.full(fresh(`full-${installer.name}`), at(state).req, indexArgs))));
      // (c) a new env each time.
      const cold = `${base}/envs/cold${++dirs}-py3.11`;
      c.slurmray.push(await time(() => sync(options(t, at(state).snapshot, cold, findLinks))));
      c.baseline.push(await time(() => must(t, installer.full(fresh(`direct-${installer.name}`), at(state).req, indexArgs))));
      await must(t, `rm -rf ${quote(cold)} ${quote(full)} ${quote(base)}/full-* ${quote(base)}/direct-*`);
    }
    const who = installer.name;
    row(`${label} ${who}: (a) no change`, a, `${who} no-op`, who === "pip" ? ">= 10x" : ">= 1x");
    row(`${label} ${who}: (b) one changed`, b, `${who} full`, ">= 5x");
    row(`${label} ${who}: (c) cold build`, c, `${who} full`, "<= 1.2x");
    row(`${label} ${who}: (d) one changed while a job holds the env`, d, `${who} full`, ">= 5x");
  };

  /** `slurmray env sync` as a user runs it, in a project whose requirements file names the index. */
  const cliCases = async (label: string, versions: [string[], string[]], findLinks: string[], runs: number): Promise<void> => {
    if (runs === 0) return;
    const baseDir = `${base}/cli-${label}`;
    const header = [`--index-url ${index.url}`, ...findLinks.map((dir) => `--find-links ${dir}`)];
    const root = mkdtempSync(join(tmpdir(), `sr-bench-cli-${label}-`));
    const toml = testbedToml(bed, { baseDir }).replace("[targets.tb]", 'requirements = "requirements.txt"\n\n[targets.tb]');
    writeFileSync(join(root, "slurmray.toml"), toml);
    const setRequirements = (lines: string[]): void => writeFileSync(join(root, "requirements.txt"), `${[...header, ...lines].join("\n")}\n`);
    const envSync = (): Promise<number> =>
      time(async () => {
        const r = spawnSync(process.execPath, [CLI, "env", "sync", "--json"], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
        if (r.status !== 0) throw new Error(`slurmray env sync failed: ${r.stderr}`);
      });
    const coldSnapshotCache = (): void => {
      const file = join(root, ".slurmray", "cache", "local-env.json");
      if (!existsSync(file)) throw new Error(`no local snapshot cache at ${file}`);
      rmSync(file);
    };
    const indexArgs = header.map((line) => line.replace(/^(--[a-z-]+) (.*)$/, (_, flag: string, value: string) => `${flag} ${quote(value)}`)).join(" ");
    const req = `${base}/req-cli-${label}.txt`;
    await writeRequirements(req, versions[0]);
    const noopVenv = fresh("cli-noop");
    const [uv] = installers(transport);
    await must(transport, uv!.full(noopVenv, req, indexArgs));
    const overSsh = (command: string): Promise<number> =>
      time(async () => {
        const r = spawnSync("ssh", [...sshArgs(bed as TestBed), command], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`ssh baseline failed: ${r.stderr}`);
      });
    setRequirements(versions[0]);
    await envSync();
    const [warm, cold, changed] = [measured(), measured(), measured()];
    for (let run = 0; run < runs; run++) {
      warm.slurmray.push(await envSync());
      warm.baseline.push(await overSsh(uv!.install(noopVenv, req, indexArgs)));
      coldSnapshotCache();
      cold.slurmray.push(await envSync());
      cold.baseline.push(warm.baseline.at(-1)!);
      setRequirements(versions[(run + 1) % 2]!);
      changed.slurmray.push(await envSync());
      const full = fresh("cli-full");
      changed.baseline.push(await overSsh(uv!.full(full, req, indexArgs)));
      await must(transport, `rm -rf ${quote(full)}`);
    }
    rmSync(root, { recursive: true, force: true });
    row(`${label} uv: env sync, no change, warm snapshot cache`, warm, "ssh + uv no-op", ">= 1x");
    row(`${label} uv: env sync, no change, cold snapshot cache`, cold, "ssh + uv no-op", ">= 1x");
    row(`${label} uv: env sync, one changed, warm snapshot cache`, changed, "ssh + uv full", ">= 5x");
  };

  try {
    console.log(`env sync benchmark: medians of ${RUNS} runs (30 packages), ${STACK_RUNS} (the stack; pip ${STACK_PIP_RUNS}), OpenSSH to ${bed.host}:${bed.port}\n`);
    for (const installer of installers(transport)) await engineCases(installer, "30pkg", [pins("1.0"), pins("1.1")], [], RUNS);
    for (const installer of installers(transport)) {
      await engineCases(installer, "stack", [STACK("2.2.2"), STACK("2.2.3")], [WHEELHOUSE], installer.name === "pip" ? STACK_PIP_RUNS : STACK_RUNS);
    }
    await cliCases("30pkg", [pins("1.0"), pins("1.1")], [], RUNS);
    await cliCases("stack", [STACK("2.2.2"), STACK("2.2.3")], [WHEELHOUSE], STACK_RUNS);
  } finally {
    await transport.exec(["rm", "-rf", base]);
    await transport.shutdown();
    await index.stop();
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(controlDir, { recursive: true, force: true });
  }
}

await main();
