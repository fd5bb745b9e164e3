// The env engine's behaviour, written once and run over each transport (local, and the real sshd), against
// the hermetic wheel index. Each test uses its own env dir under one remote scratch folder.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { EnvSyncError } from "../../../src/envsync/errors.js";
import { type EnvsInUse, parseRetired, retireEnvsScript } from "../../../src/envsync/generations.js";
import { probeRemoteEnv } from "../../../src/envsync/remote-state.js";
import { type Snapshot, snapshotHash, takeSnapshot } from "../../../src/envsync/snapshot.js";
import { diffEnv, envProbeFor, type SyncOptions, syncEnv } from "../../../src/envsync/sync.js";
import { OpenSshTransport } from "../../../src/transport/openssh.js";
import type { Transport } from "../../../src/transport/types.js";
import { InputError } from "../../../src/util/errors.js";
import { scratchDir } from "../../helpers/scratch.js";
import { requireTestbed, type TestBed, testbed } from "../../helpers/testbed.js";
import { intercept, withoutUv } from "../../helpers/transports.js";
import { MANY, type WheelIndex, wheelIndex } from "../../helpers/wheel-index.js";

export function snapshotOf(requirements: string[], pythonVersion = "3.11"): Snapshot {
  const sorted = [...requirements].sort();
  return { requirements: sorted, hash: snapshotHash(pythonVersion, sorted), pythonVersion, editablesOutside: [], source: "test" };
}

/** A snapshot as taken from an installed env: top-level requirements, the rest as constraints, the graph. */
function paritySnapshot(requirements: string[], constraints: string[], dependencies: Record<string, string[]>): Snapshot {
  const plain = snapshotOf(requirements);
  return { ...plain, constraints, dependencies, hash: snapshotHash(plain.pythonVersion, plain.requirements, constraints) };
}

/** A plain sync: strict, not exact, no reinstall, nothing installed beyond the snapshot. */
export const SYNC_DEFAULTS = { strictVersions: true, exact: false, forceReinstall: false, allowPythonInstall: false, installUv: false } as const;

// Local: alpha 1.0 under beta 2.0 (which accepts alpha >= 1.0; the index also has alpha 1.1 and 2.0).
const DRIFT = paritySnapshot(["beta==2.0"], ["alpha==1.0"], { beta: ["alpha>=1.0"], alpha: [] });
// Taken where delta needs winonly (Windows): winonly cannot exist on the Linux remote.
const PLATFORM = paritySnapshot(["delta==1.0"], ["epsilon==1.0", "winonly==1.0"], {
  delta: ["epsilon>=1.0", 'winonly; sys_platform == "win32"'],
  epsilon: [],
  winonly: [],
});
const WINONLY_SKIPPED = {
  name: "winonly",
  version: "1.0",
  reason: 'not needed on the remote: delta requires it only when sys_platform == "win32" (there sys_platform = "linux")',
};

/** Records every command sent, so a test can assert that no package command ran. */
/** The envs jobs use, as the jobs layer would say: these dirs, no other run holding a claim. */
function usedBy(...dirs: string[]): () => Promise<EnvsInUse> {
  return async () => ({ dirs, claimed: false, shared: false });
}

function recording(inner: Transport): { transport: Transport; sent: string[] } {
  const sent: string[] = [];
  const record = (script: string): string => {
    sent.push(script);
    return script;
  };
  return { transport: intercept(inner, record), sent };
}

/** A TCP port that accepts connections and never answers: an index stuck mid-install. */
async function stalledIndex(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function envSyncSuite(name: string, open: (bed: TestBed | null) => Promise<Transport>, needsBed: boolean): void {
  describe(`env sync over the ${name} transport`, () => {
    let transport: Transport | undefined;
    let index: WheelIndex;
    let base = "";
    let counter = 0;
    const cacheDir = scratchDir("sr-envcache-");
    const usable = (t: TestContext): Transport | undefined => (needsBed && !requireTestbed(t) ? undefined : transport);

    before(async () => {
      index = await wheelIndex();
      if (needsBed && !testbed()) return;
      transport = await open(testbed());
      await transport.connect();
      base = (await transport.exec(["mktemp", "-d", "/tmp/sr-envs-XXXXXX"])).stdout.trim();
    });
    after(async () => {
      if (transport && base) await transport.exec(["rm", "-rf", base]);
      if (transport instanceof OpenSshTransport) await transport.shutdown();
      else await transport?.close();
      await index.stop();
      rmSync(cacheDir, { recursive: true, force: true });
    });

    const options = (snapshot: Snapshot, extra: Partial<SyncOptions> = {}): SyncOptions => ({
      envDir: `${base}/envs/proj${counter}-py${snapshot.pythonVersion}`,
      snapshot,
      ...SYNC_DEFAULTS,
      indexOptions: { indexUrl: index.url },
      cacheDir,
      targetKey: name,
      ...extra,
    });
    const freshEnv = (): void => void counter++;
    const remoteVersion = async (t: Transport, envDir: string, module: string): Promise<string> => {
      const code = `import importlib.metadata as m; print(m.version(${JSON.stringify(module)}))`;
      const result = await t.exec([`${envDir}/bin/python`, "-c", code]);
      return result.code === 0 ? result.stdout.trim() : "absent";
    };
    const hasStamp = async (t: Transport, envDir: string): Promise<boolean> =>
      (await t.exec(["test", "-f", `${envDir}/.slurmray-env.json`])).code === 0;

    test("a cold sync creates the env (0700), installs the snapshot and stamps it", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.1", "beta[fast]==1.0", "delta==1.0"]));
      const report = await syncEnv(tr, opts);
      assert.equal(report.created, true);
      assert.equal(report.reused, false);
      assert.deepEqual(report.installed, ["alpha", "beta", "delta"]);
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.1");
      assert.equal(await remoteVersion(tr, opts.envDir, "gamma"), "1.0", "the [fast] extra's dependency");
      assert.equal(await remoteVersion(tr, opts.envDir, "winonly"), "absent", "its marker is false on Linux");
      assert.equal(await hasStamp(tr, opts.envDir), true);
      const mode = await tr.exec(["stat", "-c", "%a", opts.envDir, `${base}/envs`]);
      assert.deepEqual(mode.stdout.trim().split("\n"), ["700", "700"]);
    });

    test("no change: one remote command, no package command; zero commands with a batched probe", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0", "epsilon==1.1"]));
      await syncEnv(tr, opts);
      const recorder = recording(tr);
      const report = await syncEnv(recorder.transport, opts);
      assert.equal(report.reused, true);
      assert.equal(report.plan, null);
      assert.equal(report.unchanged, 2);
      assert.equal(report.remote_commands, 1);
      assert.equal(recorder.sent.length, 1);
      assert.doesNotMatch(recorder.sent[0]!, /pip (install|uninstall)|uv" venv|-m venv/);

      const batched = await tr.script(envProbeFor(opts));
      const again = await syncEnv(recorder.transport, { ...opts, probe: batched.stdout });
      assert.equal(again.reused, true);
      assert.equal(again.remote_commands, 0);
      assert.equal(recorder.sent.length, 1);
    });

    test("one version changed among 30 packages: exactly that one is installed", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const pins = MANY.map((pkg) => `${pkg}==1.0`);
      const opts = options(snapshotOf(pins));
      await syncEnv(tr, opts);
      const changed = snapshotOf(pins.map((pin) => (pin === "pkg17==1.0" ? "pkg17==1.1" : pin)));
      const report = await syncEnv(tr, { ...opts, snapshot: changed });
      assert.deepEqual(report.installed, []);
      assert.deepEqual(report.changed, [{ name: "pkg17", from: "1.0", to: "1.1" }]);
      assert.equal(report.unchanged, 29);
      assert.equal(report.remote_commands, 2, "the stamp probe (state from the cache) and the apply script");
      assert.equal(await remoteVersion(tr, opts.envDir, "pkg17"), "1.1");
      assert.equal(await remoteVersion(tr, opts.envDir, "pkg16"), "1.0");
    });

    test("a requirement whose marker is false on the remote is skipped", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0"]));
      await syncEnv(tr, opts);
      // Taken on a Windows laptop: true there, false on the Linux remote.
      const report = await syncEnv(tr, { ...opts, snapshot: snapshotOf(["alpha==1.0", 'winonly==1.0; sys_platform == "win32"']) });
      const entry = report.plan?.entries.find((e) => e.name === "winonly");
      assert.equal(entry?.action, "skip-marker");
      assert.deepEqual(report.installed, []);
      assert.equal(await remoteVersion(tr, opts.envDir, "winonly"), "absent");
    });

    test("an interrupted install leaves no stamp; the next sync repairs the env and only then reports it reused", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0"]));
      await syncEnv(tr, opts);
      const wanted = snapshotOf(["alpha==2.0", "pkg01==1.0"]);
      const stalled = await stalledIndex();
      const abort = new AbortController();
      const interrupted = syncEnv(tr, { ...opts, snapshot: wanted, indexOptions: { indexUrl: stalled.url }, signal: abort.signal });
      await sleep(2500);
      abort.abort();
      await assert.rejects(interrupted);
      await stalled.close(); // An installer left running remotely now fails at once and lets go of the lock.
      const state = await probeRemoteEnv(tr, { envDir: opts.envDir });
      assert.equal(state.kind === "state" && state.stamp, null, "no stamp after an interrupted install");

      const repaired = await syncEnv(tr, { ...opts, snapshot: wanted });
      assert.equal(repaired.reused, false, "not whole before this sync");
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "2.0");
      assert.equal(await remoteVersion(tr, opts.envDir, "pkg01"), "1.0");
      assert.equal((await syncEnv(tr, { ...opts, snapshot: wanted })).reused, true);
    });

    test("two syncs at once: one installs, the other waits on the lock and finds nothing to do", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.1", "delta==1.0"]));
      const reports = await Promise.all([syncEnv(tr, opts), syncEnv(tr, { ...opts, cacheDir: join(cacheDir, "other") })]);
      const creators = reports.filter((r) => r.created);
      assert.equal(creators.length, 1);
      assert.deepEqual(creators[0]!.installed, ["alpha", "delta"]);
      const waiter = reports.find((r) => !r.created)!;
      assert.deepEqual([waiter.installed, waiter.changed, waiter.reused], [[], [], true]);
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.1");
    });

    test("a Python the remote lacks is an input error listing the remote Pythons", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      await assert.rejects(syncEnv(tr, options(snapshotOf(["alpha==1.0"], "3.7"))), (error: Error) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, /no Python 3\.7/);
        assert.match(error.message, /Pythons found on the target: .*3\.11\.\d+ \(\/usr\/bin\/python3\.11\)/);
        assert.match(error.message, /allow_python_install/);
        return true;
      });
    });

    test("a package that cannot install there and is not pinned (so not a local version) is named, with the exclude hint; no stamp is written", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0", "maconly>=1.0"]));
      await assert.rejects(syncEnv(tr, opts), (error: Error) => {
        assert.ok(error instanceof EnvSyncError, String(error));
        assert.equal(error.failure, "package");
        assert.deepEqual(error.packages, ["maconly"]);
        assert.match(error.message, /exclude = \["maconly"\]/);
        return true;
      });
      assert.equal(await hasStamp(tr, opts.envDir), false);
    });

    /** A real local venv: alpha and delta from the index, and maconly's macOS-only wheel installed as on a Mac. */
    const macVenv = async (): Promise<Snapshot> => {
      const local = join(cacheDir, `venv${counter}`);
      const uv = (args: string[]): void => void execFileSync("uv", args, { stdio: "pipe", timeout: 120_000 });
      const install = ["pip", "install", "--quiet", "--python", `${local}/bin/python`, "--index-url", index.url];
      uv(["venv", "--quiet", "--no-python-downloads", "--python", "3.11", local]);
      uv([...install, "alpha==1.0", "delta==1.0", "epsilon==1.0"]);
      uv([...install, "--python-platform", "aarch64-apple-darwin", "maconly==1.0"]);
      return takeSnapshot({ python: `${local}/bin/python`, projectRoot: local, exclude: [], extra: [], cacheDir: join(local, "cache") });
    };
    const MACONLY = { name: "maconly", version: "1.0", reason: "no wheel or sdist for the remote platform (linux x86_64, cp311) in the target's package index" };

    for (const installer of ["uv", "pip"] as const) {
      test(`no wheel for the remote platform (${installer}): the local version is skipped and reported, the rest installed, the warm path unchanged`, async (t) => {
        const tr = usable(t);
        if (!tr) return;
        freshEnv();
        const on = installer === "uv" ? tr : withoutUv(tr);
        const snapshot = await macVenv();
        assert.deepEqual([snapshot.requirements, snapshot.constraints], [["alpha==1.0", "delta==1.0", "maconly==1.0"], ["epsilon==1.0"]]);
        const opts = options(snapshot);
        const report = await syncEnv(on, opts);
        assert.deepEqual(report.skipped, [MACONLY]);
        assert.match(report.warnings?.join("\n") ?? "", /maconly 1\.0 \(a top-level requirement\) cannot be installed on the target.*ImportError/);
        assert.equal(report.remote_commands, 3, "the failed first contact, the state, the install without maconly");
        for (const [module, version] of [["alpha", "1.0"], ["delta", "1.0"], ["epsilon", "1.0"], ["maconly", "absent"]]) {
          assert.equal(await remoteVersion(tr, report.envDir, module!), version, module);
        }

        // Nothing changed: one command, no package command, still reported, the stamp records the local env.
        const recorder = recording(on);
        const warm = await syncEnv(recorder.transport, opts);
        assert.deepEqual([warm.reused, warm.plan, warm.remote_commands, warm.skipped], [true, null, 1, [MACONLY]]);
        assert.doesNotMatch(recorder.sent.join("\n"), /pip (install|uninstall)/);
        assert.equal(warm.warnings?.length, 1);

        // A change: maconly is left out of the plan at once (no failed install), and env diff lists it.
        const changed = { ...opts, snapshot: { ...snapshot, requirements: ["alpha==1.1", "delta==1.0", "maconly==1.0"], hash: `${snapshot.hash}-next` } };
        const next = await syncEnv(on, changed);
        assert.deepEqual([next.changed, next.skipped, next.remote_commands], [[{ name: "alpha", from: "1.0", to: "1.1" }], [MACONLY], 2]);
        const diff = await diffEnv(on, { ...changed, exact: false });
        assert.deepEqual([diff.skipped, diff.plan.entries.find((e) => e.name === "maconly")], [[MACONLY], undefined]);
      });
    }

    test("two pins without a distribution there (one a name the index lacks): each round finds one, both are skipped", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0", "maconly==1.0", "nothere==2.0"]));
      const report = await syncEnv(tr, opts);
      assert.deepEqual(report.skipped.map((s) => [s.name, s.version]).sort(), [["maconly", "1.0"], ["nothere", "2.0"]]);
      assert.equal(await remoteVersion(tr, report.envDir, "alpha"), "1.0");
    });

    test("a top-level local version the index lacks is left out, and the version the env held before goes too", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const before = await syncEnv(tr, options(snapshotOf(["alpha==1.0", "delta==1.0"])));
      assert.equal(await remoteVersion(tr, before.envDir, "alpha"), "1.0");
      const report = await syncEnv(tr, options(snapshotOf(["alpha==9.9", "delta==1.0"])));
      assert.deepEqual(report.skipped.map((s) => [s.name, s.version]), [["alpha", "9.9"]]);
      assert.match(report.warnings?.join("\n") ?? "", /alpha 9\.9 .* a job that imports it there fails with ImportError/);
      assert.equal(await remoteVersion(tr, report.envDir, "alpha"), "absent", "alpha 1.0 is not left for the job to import");
      assert.equal(await remoteVersion(tr, report.envDir, "delta"), "1.0");
    });

    test("an unreachable index is a network error and leaves no stamp", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0"]), { indexOptions: { indexUrl: "http://127.0.0.1:9/simple/" } });
      await assert.rejects(syncEnv(tr, opts), (error: Error) => error instanceof EnvSyncError && error.failure === "network");
      assert.equal(await hasStamp(tr, opts.envDir), false);
    });

    test("without uv on the remote, pip creates and fills the env", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const pipOnly = withoutUv(tr);
      const opts = options(snapshotOf(["alpha==1.1", "delta==1.0"]));
      // pip's lines reach the progress display as it prints them: each package, n of m (epsilon is delta's).
      const said: string[] = [];
      const report = await syncEnv(pipOnly, { ...opts, onInstallProgress: (text) => said.push(text) });
      assert.deepEqual(said, ["collecting alpha (1 of 2)", "collecting delta (2 of 2)", "collecting epsilon (3 of 3)", "installing 3 packages"]);
      assert.deepEqual([report.created, report.installed], [true, ["alpha", "delta"]]);
      assert.equal(await remoteVersion(tr, opts.envDir, "epsilon"), "1.1");
      assert.equal(await remoteVersion(tr, opts.envDir, "pip") !== "absent", true, "made by python -m venv");
      const changed = await syncEnv(pipOnly, { ...opts, snapshot: snapshotOf(["alpha==2.0", "delta==1.0"]) });
      assert.deepEqual(changed.changed, [{ name: "alpha", from: "1.1", to: "2.0" }]);
    });

    test("pip installs what a PYTHONPATH of the login environment already holds: the job runs without it", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const stale = `${base}/stale${counter}`;
      await tr.exec(["mkdir", "-p", `${stale}/alpha-1.1.dist-info`]);
      await tr.exec(["sh", "-c", `printf 'Metadata-Version: 2.1\\nName: alpha\\nVersion: 1.1\\n' > ${stale}/alpha-1.1.dist-info/METADATA`]);
      const login = intercept(withoutUv(tr), (script) => `PYTHONPATH=${stale}; export PYTHONPATH\n${script}`);
      const opts = options(snapshotOf(["alpha==1.1"]));
      const report = await syncEnv(login, opts);
      assert.deepEqual(report.installed, ["alpha"]);
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.1");
    });

    test("parity: a new env gets the local alpha 1.0 under beta, not the newest", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(DRIFT);
      const report = await syncEnv(tr, opts);
      assert.equal(report.created, true);
      assert.equal(await remoteVersion(tr, opts.envDir, "beta"), "2.0");
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.0");
      assert.deepEqual(report.skipped, []);
      const again = await syncEnv(tr, opts);
      assert.deepEqual([again.reused, again.plan, again.remote_commands], [true, null, 1]);
    });

    test("parity from a real local venv (alpha 1.0 under beta 2.0): the snapshot pins alpha as a constraint, the remote gets 1.0", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const local = join(cacheDir, `venv${counter}`);
      const uv = (args: string[]): void => void execFileSync("uv", args, { stdio: "pipe", timeout: 120_000 });
      uv(["venv", "--quiet", "--no-python-downloads", "--python", "3.11", local]);
      uv(["pip", "install", "--quiet", "--python", `${local}/bin/python`, "--index-url", index.url, "beta==2.0", "alpha==1.0"]);
      const snapshot = await takeSnapshot({ python: `${local}/bin/python`, projectRoot: local, exclude: [], extra: [], cacheDir: join(local, "cache") });
      assert.deepEqual([snapshot.requirements, snapshot.constraints], [["beta==2.0"], ["alpha==1.0"]]);
      const opts = options(snapshot);
      await syncEnv(tr, opts);
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.0", "the index has 1.1 and 2.0");
    });

    test("parity with pip (no uv on the remote): the constraints apply too, in a new env and a planned change", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const pipOnly = withoutUv(tr);
      const opts = options(DRIFT);
      await syncEnv(pipOnly, { ...opts, snapshot: snapshotOf(["alpha==1.0"]) });
      const planned = await syncEnv(pipOnly, opts);
      assert.deepEqual(planned.installed, ["beta"]);
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.0");
      freshEnv();
      const fresh = options(PLATFORM);
      const created = await syncEnv(pipOnly, fresh);
      assert.deepEqual([created.created, created.skipped.map((s) => s.name)], [true, ["winonly"]]);
      assert.equal(await remoteVersion(tr, fresh.envDir, "epsilon"), "1.0");
    });

    test("parity: an env that drifted to alpha 2.0 is brought back to 1.0; strict_versions = false leaves it", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      // strict_versions = false: the snapshot has no constraints (snapshot.ts).
      const loose = await syncEnv(tr, options(snapshotOf(DRIFT.requirements), { strictVersions: false }));
      assert.equal(loose.created, true);
      const opts = options(DRIFT);
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "2.0", "no constraints when not strict");
      const report = await syncEnv(tr, opts);
      assert.deepEqual(report.changed, [{ name: "alpha", from: "2.0", to: "1.0" }]);
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.0");
    });

    test("parity: a dependency whose marker is false remotely is skipped and reported, in a new env and an existing one", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(PLATFORM);
      const created = await syncEnv(tr, opts);
      assert.equal(created.created, true);
      assert.equal(await remoteVersion(tr, opts.envDir, "epsilon"), "1.0", "the local epsilon, not the newest 1.1");
      assert.equal(await remoteVersion(tr, opts.envDir, "winonly"), "absent");
      assert.deepEqual(created.skipped.map((s) => s.name), ["winonly"]);
      assert.match(created.skipped[0]!.reason, /delta requires it only when sys_platform == "win32"/);
      const warm = await syncEnv(tr, opts);
      assert.deepEqual([warm.reused, warm.remote_commands, warm.skipped.map((s) => s.name)], [true, 1, ["winonly"]]);

      freshEnv();
      const existing = options(PLATFORM);
      await syncEnv(tr, { ...existing, snapshot: snapshotOf(["alpha==1.0"]) });
      const planned = await syncEnv(tr, existing);
      assert.deepEqual(planned.installed, ["delta", "epsilon"]);
      assert.deepEqual(planned.skipped, [WINONLY_SKIPPED]);
      assert.equal(await remoteVersion(tr, existing.envDir, "epsilon"), "1.0");
      const diff = await diffEnv(tr, { ...existing, exact: false });
      assert.deepEqual(diff.skipped, [WINONLY_SKIPPED]);
    });

    test("an env changed behind the stamp (uv pip install in it) is noticed by the next probe, batched or not", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0", "delta==1.0"]));
      await syncEnv(tr, opts);
      const behind = async (pin: string): Promise<void> => {
        const result = await tr.exec(["uv", "pip", "install", "--python", `${opts.envDir}/bin/python`, "--index-url", index.url, pin]);
        assert.equal(result.code, 0, result.stderr);
      };
      await behind("alpha==1.1");
      const batched = await tr.script(envProbeFor(opts));
      const report = await syncEnv(tr, { ...opts, probe: batched.stdout });
      assert.deepEqual(report.changed, [{ name: "alpha", from: "1.1", to: "1.0" }]);
      assert.equal(report.remote_commands, 1, "the batched probe returned the state: only the apply script");
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.0");

      // A change the snapshot does not pin (delta's dependency): nothing to install, but the env is stamped anew.
      await behind("epsilon==1.0");
      const direct = await syncEnv(tr, opts);
      assert.deepEqual([direct.installed, direct.changed], [[], []]);
      assert.equal(direct.remote_commands, 2, "the probe (full state) and the apply script");
      const warm = await syncEnv(tr, opts);
      assert.deepEqual([warm.reused, warm.plan, warm.remote_commands], [true, null, 1]);
    });

    test("env diff lists what the remote holds beyond the snapshot; --exact removes it with the dependencies only it needed, whatever the stamp", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0", "delta==1.0"]));
      await syncEnv(tr, opts);
      const smaller = { ...opts, snapshot: snapshotOf(["alpha==1.0"]) };
      const kept = await syncEnv(tr, smaller);
      assert.deepEqual(kept.removed, []);
      const diff = await diffEnv(tr, { ...smaller, exact: false });
      const beyond = diff.plan.entries.filter((e) => e.action.startsWith("extra")).map((e) => [e.name, e.action]);
      assert.deepEqual(beyond, [
        ["delta", "extra"],
        ["epsilon", "extra"],
      ]);
      const needed = await diffEnv(tr, { ...opts, snapshot: snapshotOf(["delta==1.0"]), exact: false });
      assert.deepEqual(
        needed.plan.entries.filter((e) => e.action.startsWith("extra")).map((e) => [e.name, e.action]),
        [
          ["alpha", "extra"],
          ["epsilon", "extra-needed"],
        ],
      );

      // The stamp records `smaller` already: --exact acts anyway.
      const exact = await syncEnv(tr, { ...smaller, exact: true });
      assert.deepEqual(exact.removed, ["delta", "epsilon"]);
      assert.equal(await remoteVersion(tr, opts.envDir, "delta"), "absent");
      assert.equal(await remoteVersion(tr, opts.envDir, "epsilon"), "absent");
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.0");
      const after = await diffEnv(tr, { ...smaller, exact: false });
      assert.deepEqual(after.plan.entries.map((e) => [e.name, e.action]), [["alpha", "keep"]]);
    });

    /** Fails when a file of the env's bin/ or its pyvenv.cfg still names `old` (the env it was cloned from). */
    const assertRelocated = async (t: Transport, envDir: string, old: string): Promise<void> => {
      const stale = await t.exec(["grep", "-rlE", `${old}([^-0-9]|$)`, `${envDir}/bin`, `${envDir}/pyvenv.cfg`]);
      assert.equal(stale.stdout, "", "no file of the new env names the old one");
      const prefix = await t.exec([`${envDir}/bin/python`, "-c", "import sys; print(sys.prefix)"]);
      assert.equal(prefix.stdout.trim(), envDir);
      assert.equal((await t.exec(["grep", "-qF", envDir, `${envDir}/bin/activate`])).code, 0, "activate names the new env");
    };
    const exists = async (t: Transport, path: string): Promise<boolean> => (await t.exec(["test", "-e", path])).code === 0;

    test("a change while a job uses the env: the next env is built beside it, the job keeps its versions, the old env goes once unused", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0", "delta==1.0"]));
      const first = await syncEnv(tr, { ...opts, envsInUse: usedBy() });
      assert.equal(first.envDir, opts.envDir);
      // Job A: started from the env, it imports alpha only once the flag exists (after the change).
      const flag = `${base}/go${counter}`;
      const jobA = tr.exec([
        `${opts.envDir}/bin/python`,
        "-c",
        `import os, time\nwhile not os.path.exists(${JSON.stringify(flag)}): time.sleep(0.05)\nimport alpha, importlib.metadata as m\nprint(alpha.__version__, m.version("alpha"))`,
      ]);
      let asked = 0;
      const inUse = async (): Promise<EnvsInUse> => {
        asked++;
        return { dirs: [opts.envDir], claimed: false, shared: false };
      };
      const changed = { ...opts, snapshot: snapshotOf(["alpha==1.1", "delta==1.0"]), envsInUse: inUse };
      const beside = await syncEnv(tr, changed);
      assert.equal(beside.envDir, `${opts.envDir}-1`);
      assert.deepEqual(beside.changed, [{ name: "alpha", from: "1.0", to: "1.1" }]);
      assert.deepEqual([beside.created, beside.retired, asked], [true, [], 1], "with uv: a new env from uv's cache");
      await tr.exec(["touch", flag]);
      const a = await jobA;
      assert.equal(a.stdout.trim(), "1.0 1.0", a.stderr);
      assert.equal(await remoteVersion(tr, beside.envDir, "alpha"), "1.1", "job B's env");
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.0", "the old env is untouched");
      await assertRelocated(tr, beside.envDir, opts.envDir);

      // The warm path is unchanged: one command, nobody asked which jobs run, the new env.
      const warm = await syncEnv(tr, changed);
      assert.deepEqual([warm.reused, warm.remote_commands, warm.envDir, asked], [true, 1, beside.envDir, 1]);

      // Job A has ended: the next change is made in place (no job uses the env) and removes the old env.
      const next = await syncEnv(tr, { ...opts, snapshot: snapshotOf(["alpha==2.0", "delta==1.0"]), envsInUse: usedBy() });
      assert.deepEqual([next.envDir, next.retired], [beside.envDir, [opts.envDir]]);
      assert.equal(await exists(tr, opts.envDir), false);
      assert.equal(await remoteVersion(tr, beside.envDir, "alpha"), "2.0");
      const probe = await probeRemoteEnv(tr, { envDir: opts.envDir });
      assert.equal(probe.envDir, beside.envDir, "the probe resolves the current generation");
    });

    test("two syncs of different snapshots at once while a job uses the env: each gets an env of its own, none is removed", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0"]));
      const e0 = (await syncEnv(tr, opts)).envDir;
      const inUse = usedBy(e0);
      const [one, two] = await Promise.all([
        syncEnv(tr, { ...opts, snapshot: snapshotOf(["alpha==1.1"]), envsInUse: inUse }),
        syncEnv(tr, { ...opts, snapshot: snapshotOf(["alpha==2.0"]), envsInUse: inUse, cacheDir: join(cacheDir, "other") }),
      ]);
      // The one that waited saw an env the other had just made (its job may be about to use it): beside again.
      assert.deepEqual([one.envDir, two.envDir].sort(), [`${opts.envDir}-1`, `${opts.envDir}-2`]);
      assert.deepEqual([...one.retired, ...two.retired], []);
      assert.equal(await remoteVersion(tr, one.envDir, "alpha"), "1.1");
      assert.equal(await remoteVersion(tr, two.envDir, "alpha"), "2.0");
      assert.equal(await remoteVersion(tr, e0, "alpha"), "1.0");
    });

    test("with pip only, generations beside in use ones; clean's retirement keeps the current env and those in use", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const pipOnly = withoutUv(tr);
      const opts = options(snapshotOf(["alpha==1.0"]));
      const e0 = (await syncEnv(pipOnly, opts)).envDir;
      const e1 = (await syncEnv(pipOnly, { ...opts, snapshot: snapshotOf(["alpha==1.1"]), envsInUse: usedBy(e0) })).envDir;
      const e2 = (await syncEnv(pipOnly, { ...opts, snapshot: snapshotOf(["alpha==2.0"]), envsInUse: usedBy(e0, e1) })).envDir;
      assert.deepEqual([e1, e2], [`${opts.envDir}-1`, `${opts.envDir}-2`]);
      assert.deepEqual(
        [await remoteVersion(tr, e0, "alpha"), await remoteVersion(tr, e1, "alpha"), await remoteVersion(tr, e2, "alpha")],
        ["1.0", "1.1", "2.0"],
      );
      await assertRelocated(tr, e2, e1);

      const retire = async (keep: string[]): Promise<string[]> => {
        const result = await tr.script(retireEnvsScript(`${base}/envs`, `proj${counter}`, keep, false));
        assert.equal(result.code, 0, result.stderr);
        return parseRetired(result.stdout);
      };
      assert.deepEqual(await retire([e1]), [e0]);
      assert.deepEqual(await retire([]), [e1]);
      assert.deepEqual(await retire([]), []);
      assert.deepEqual([await exists(tr, e0), await exists(tr, e1), await exists(tr, e2)], [false, false, true]);
      const warm = await syncEnv(pipOnly, { ...opts, snapshot: snapshotOf(["alpha==2.0"]) });
      assert.deepEqual([warm.reused, warm.envDir], [true, e2]);
    });

    test("--force-reinstall rebuilds the env from scratch", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0"]));
      await syncEnv(tr, opts);
      await tr.exec(["touch", `${opts.envDir}/marker-file`]);
      const report = await syncEnv(tr, { ...opts, forceReinstall: true });
      assert.equal(report.created, true);
      assert.equal((await tr.exec(["test", "-e", `${opts.envDir}/marker-file`])).code, 1);
      assert.equal(await remoteVersion(tr, opts.envDir, "alpha"), "1.0");
    });
  });
}
