// Env sync benchmark against the test-bed sshd (one multiplexed OpenSSH connection) and the hermetic wheel
// index, 30 packages. Each figure is the median of several runs, measured against a baseline in the same run:
//   (a) slurmray's no-change check   vs  `pip install -r requirements.txt` (pip's no-op) in the same venv
//   (b) one changed package among 30 vs  a full `pip install -r` with that change
//   (c) a cold build                 vs  `uv venv` + `uv pip install -r` run directly
// Usage: bash scripts/test-cluster.sh up && npx tsx bench/envsync/run.ts [runs=5]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Snapshot, snapshotHash } from "../../src/envsync/snapshot.js";
import { type SyncOptions, syncEnv } from "../../src/envsync/sync.js";
import { OpenSshTransport } from "../../src/transport/openssh.js";
import type { Transport } from "../../src/transport/types.js";
import { quote } from "../../src/util/shell.js";
import { testbed } from "../../test/helpers/testbed.js";
import { MANY, wheelIndex } from "../../test/helpers/wheel-index.js";

const RUNS = Number(process.argv[2] ?? 5);

function snapshotOf(requirements: string[]): Snapshot {
  const sorted = [...requirements].sort();
  return { requirements: sorted, hash: snapshotHash("3.11", sorted), pythonVersion: "3.11", editablesOutside: [], source: "bench" };
}

const pins = (changedVersion: string): string[] =>
  MANY.map((pkg) => (pkg === "pkg17" ? `pkg17==${changedVersion}` : `${pkg}==1.0`));

async function time(action: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await action();
  return (performance.now() - start) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function must(transport: Transport, script: string): Promise<void> {
  const result = await transport.script(script);
  if (result.code !== 0) throw new Error(`bench setup failed (${result.code}): ${result.stderr}`);
}

async function main(): Promise<void> {
  const bed = testbed();
  if (!bed) throw new Error("test bed not running: bash scripts/test-cluster.sh up");
  const index = await wheelIndex();
  const cacheDir = mkdtempSync(join(tmpdir(), "sr-bench-"));
  const transport = new OpenSshTransport({ host: "srtb", sshConfigFile: bed.sshConfig, controlDir: mkdtempSync("/tmp/srb-") });
  await transport.connect();
  const base = (await transport.exec(["mktemp", "-d", "/tmp/sr-bench-XXXXXX"])).stdout.trim();
  const pipInstall = (env: string, file: string): string =>
    `${quote(`${env}/bin/python`)} -m pip install -q --disable-pip-version-check --index-url ${quote(index.url)} -r ${quote(file)}`;
  const writeRequirements = (file: string, lines: string[]): Promise<void> =>
    must(transport, `printf '%s\\n' ${lines.map(quote).join(" ")} > ${quote(file)}`);
  let envs = 0;
  const options = (snapshot: Snapshot, envDir: string): SyncOptions => ({
    envDir,
    snapshot,
    strictVersions: true,
    exact: false,
    forceReinstall: false,
    allowPythonInstall: false,
    installUv: false,
    indexOptions: { indexUrl: index.url },
    cacheDir,
    targetKey: "bench",
  });

  try {
    // One up-to-date venv, made by slurmray, with pip seeded so that pip's own no-op can run in it.
    const env = `${base}/envs/bench-py3.11`;
    await syncEnv(transport, options(snapshotOf(pins("1.0")), env));
    await must(transport, `${quote(`${env}/bin/python`)} -m ensurepip >/dev/null`);
    const [req10, req11] = [`${base}/req-1.0.txt`, `${base}/req-1.1.txt`];
    await writeRequirements(req10, pins("1.0"));
    await writeRequirements(req11, pins("1.1"));

    const a = { slurmray: [] as number[], baseline: [] as number[] };
    const b = { slurmray: [] as number[], baseline: [] as number[] };
    const c = { slurmray: [] as number[], baseline: [] as number[] };
    for (let run = 0; run < RUNS; run++) {
      // (a) nothing changed.
      a.slurmray.push(await time(() => syncEnv(transport, options(snapshotOf(pins("1.0")), env))));
      a.baseline.push(await time(() => must(transport, pipInstall(env, req10))));
      // (b) pkg17 1.0 -> 1.1 (and back, so that each run changes one package).
      b.slurmray.push(await time(() => syncEnv(transport, options(snapshotOf(pins("1.1")), env))));
      await syncEnv(transport, options(snapshotOf(pins("1.0")), env));
      b.baseline.push(await time(() => must(transport, pipInstall(env, req11))));
      await syncEnv(transport, options(snapshotOf(pins("1.0")), env)); // pip changed it behind the stamp: repaired
      // (c) a fresh env each time (uv's cache warm for both).
      const cold = `${base}/envs/cold${++envs}-py3.11`;
      c.slurmray.push(await time(() => syncEnv(transport, options(snapshotOf(pins("1.0")), cold))));
      const direct = `${base}/direct${envs}`;
      c.baseline.push(
        await time(() =>
          must(transport, `uv venv -q --python python3.11 ${quote(direct)} && uv pip install -q --python ${quote(`${direct}/bin/python`)} --index-url ${quote(index.url)} -r ${quote(req10)}`),
        ),
      );
    }

    const line = (label: string, m: { slurmray: number[]; baseline: number[] }, goal: string, faster: boolean): void => {
      const s = median(m.slurmray);
      const baseline = median(m.baseline);
      const ratio = faster ? baseline / s : s / baseline;
      const shown = faster ? `${ratio.toFixed(1)}x faster` : `${ratio.toFixed(2)}x the baseline's time`;
      console.log(`${label.padEnd(44)} slurmray ${s.toFixed(3)} s   baseline ${baseline.toFixed(3)} s   ${shown}   (goal ${goal})`);
    };
    console.log(`env sync benchmark: 30 packages, ${RUNS} runs each (medians), OpenSSH to ${bed.host}:${bed.port}\n`);
    line("(a) no change vs pip install -r (no-op)", a, ">= 10x", true);
    line("(b) one changed vs full pip install -r", b, ">= 5x", true);
    line("(c) cold build vs uv venv + uv pip install -r", c, "<= 1.2x", false);
  } finally {
    await transport.exec(["rm", "-rf", base]);
    await transport.shutdown();
    await index.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

await main();
