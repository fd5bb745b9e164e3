// The env engine's behaviour, written once and run over each transport (local, and the real sshd), against
// the hermetic wheel index. Each test uses its own env dir under one remote scratch folder.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { EnvSyncError } from "../../../src/envsync/errors.js";
import { probeRemoteEnv } from "../../../src/envsync/remote-state.js";
import { type Snapshot, snapshotHash } from "../../../src/envsync/snapshot.js";
import { envProbeFor, type SyncOptions, syncEnv } from "../../../src/envsync/sync.js";
import { OpenSshTransport } from "../../../src/transport/openssh.js";
import type { ExecOptions, Transport } from "../../../src/transport/types.js";
import { InputError } from "../../../src/util/errors.js";
import { requireTestbed, type TestBed, testbed } from "../../helpers/testbed.js";
import { MANY, type WheelIndex, wheelIndex } from "../../helpers/wheel-index.js";

export function snapshotOf(requirements: string[], pythonVersion = "3.11"): Snapshot {
  const sorted = [...requirements].sort();
  return { requirements: sorted, hash: snapshotHash(pythonVersion, sorted), pythonVersion, editablesOutside: [], source: "test" };
}

/** A plain sync: strict, not exact, no reinstall, nothing installed beyond the snapshot. */
export const SYNC_DEFAULTS = { strictVersions: true, exact: false, forceReinstall: false, allowPythonInstall: false, installUv: false } as const;

/** A transport that hands every command to `inner`, after `rewrite` saw it (and changed it, for scripts). */
function intercept(inner: Transport, rewrite: (script: string) => string): Transport {
  return new Proxy(inner, {
    get(target, property) {
      if (property === "script") {
        return (script: string, args?: readonly string[], options?: Omit<ExecOptions, "stdin">) => target.script(rewrite(script), args, options);
      }
      if (property === "exec") {
        // Commands run as given; `rewrite` only sees them.
        return (argv: readonly string[], options?: ExecOptions) => {
          rewrite(argv.join(" "));
          return target.exec(argv, options);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Records every command sent, so a test can assert that no package command ran. */
function recording(inner: Transport): { transport: Transport; sent: string[] } {
  const sent: string[] = [];
  const record = (script: string): string => {
    sent.push(script);
    return script;
  };
  return { transport: intercept(inner, record), sent };
}

/** A remote without uv: every script runs with PATH=/usr/bin:/bin (uv lives in /usr/local/bin). */
function withoutUv(inner: Transport): Transport {
  return intercept(inner, (script) => `PATH=/usr/bin:/bin; export PATH\n${script}`);
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
    const cacheDir = mkdtempSync(join(tmpdir(), "sr-envcache-"));
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

    test("a package that cannot install there is named, with the exclude hint; no stamp is written", async (t) => {
      const tr = usable(t);
      if (!tr) return;
      freshEnv();
      const opts = options(snapshotOf(["alpha==1.0", "maconly==1.0"]));
      await assert.rejects(syncEnv(tr, opts), (error: Error) => {
        assert.ok(error instanceof EnvSyncError, String(error));
        assert.equal(error.failure, "package");
        assert.deepEqual(error.packages, ["maconly"]);
        assert.match(error.message, /exclude = \["maconly"\]/);
        return true;
      });
      assert.equal(await hasStamp(tr, opts.envDir), false);
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
      const report = await syncEnv(pipOnly, opts);
      assert.deepEqual([report.created, report.installed], [true, ["alpha", "delta"]]);
      assert.equal(await remoteVersion(tr, opts.envDir, "epsilon"), "1.1");
      assert.equal(await remoteVersion(tr, opts.envDir, "pip") !== "absent", true, "made by python -m venv");
      const changed = await syncEnv(pipOnly, { ...opts, snapshot: snapshotOf(["alpha==2.0", "delta==1.0"]) });
      assert.deepEqual(changed.changed, [{ name: "alpha", from: "1.1", to: "2.0" }]);
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
