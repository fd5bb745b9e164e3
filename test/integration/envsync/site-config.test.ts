// A site whose index and CA are configured for pip only, on the real sshd: an HTTPS index on loopback signed
// by a private CA that only the bed's second user's own pip.conf knows about. uv (in /usr/local/bin on the
// bed) must install through it; where uv cannot use the CA, pip must take over and the report must say so.
// The machine-wide /etc/pip.conf and CA bundle are left alone.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Snapshot } from "../../../src/envsync/snapshot.js";
import { type SyncOptions, syncEnv } from "../../../src/envsync/sync.js";
import type { OpenSshTransport } from "../../../src/transport/openssh.js";
import { scratchDir } from "../../helpers/scratch.js";
import { requireTestbed, testbed } from "../../helpers/testbed.js";
import { type PipSite, pipSite, type TlsIndex, type UserPipConf, userPipConf } from "../../helpers/tls-index.js";
import { SYNC_DEFAULTS, snapshotOf } from "./suite.js";

describe("env sync on a site configured for pip only (HTTPS index, private CA)", () => {
  let site: PipSite | undefined;
  let transport: OpenSshTransport | undefined;
  let index: TlsIndex;
  let base = "";
  let counter = 0;
  let pipConf: UserPipConf | undefined;
  const cacheDir = scratchDir("sr-sitecache-");

  before(async () => {
    const tb = testbed();
    if (!tb) return;
    site = await pipSite(tb, "/tmp/sr-site-");
    ({ transport, index, base } = site);
    pipConf = await userPipConf(transport);
  });
  after(async () => {
    await pipConf?.remove();
    await site?.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  /** The user's pip.conf names the index and a CA bundle (in the scratch folder) holding `bundle`. */
  const configurePip = (bundle: string): Promise<void> => pipConf!.write([`index-url = ${index.url}`], bundle, `${base}/ca-bundle.pem`);

  // No index options from slurmray: the index and the CA come from pip.conf alone.
  const options = (snapshot: Snapshot): SyncOptions => ({
    envDir: `${base}/envs/proj${++counter}-py3.11`,
    snapshot,
    ...SYNC_DEFAULTS,
    cacheDir,
    targetKey: `site${counter}`,
  });
  const remoteVersion = async (envDir: string, module: string): Promise<string> => {
    const result = await transport!.exec([`${envDir}/bin/python`, "-c", `import importlib.metadata as m; print(m.version(${JSON.stringify(module)}))`]);
    return result.code === 0 ? result.stdout.trim() : "absent";
  };

  test("uv installs from an index and CA that only the user's pip.conf names", async (t) => {
    if (!requireTestbed(t) || !transport) return;
    await configurePip(index.caPem);
    const opts = options(snapshotOf(["alpha==1.1"]));
    const report = await syncEnv(transport, opts);
    assert.equal(report.created, true);
    assert.deepEqual(report.warnings, [], "uv did it, no fallback");
    assert.equal(await remoteVersion(opts.envDir, "alpha"), "1.1");
    // uv made the env (a venv made by uv has no pip): the install was uv's.
    assert.equal(await remoteVersion(opts.envDir, "pip"), "absent");
    // Then a change, planned against the env and installed by uv the same way.
    const changed = await syncEnv(transport, { ...opts, snapshot: snapshotOf(["alpha==2.0"]) });
    assert.deepEqual(changed.changed, [{ name: "alpha", from: "1.1", to: "2.0" }]);
    assert.deepEqual(changed.warnings, []);
  });

  test("when uv cannot use the CA (a trusted-certificate bundle), pip installs instead and the report says so once", async (t) => {
    if (!requireTestbed(t) || !transport) return;
    await configurePip(index.caTrustedPem);
    const opts = options(snapshotOf(["alpha==1.0", "epsilon==1.1"]));
    const report = await syncEnv(transport, opts);
    assert.equal(report.created, true);
    assert.equal(report.warnings?.length, 1);
    assert.match(report.warnings![0]!, /uv could not reach or trust the package index .* pip installed into .* instead/);
    assert.equal(await remoteVersion(opts.envDir, "alpha"), "1.0");
    assert.equal(await remoteVersion(opts.envDir, "epsilon"), "1.1");
  });
});
