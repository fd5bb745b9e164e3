// Both SSH transports against the real test-bed sshd: the shared suite, then authentication, host keys,
// a connection lost mid-stream, and password handling.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { masterGreets } from "../../../src/transport/mux-hello.js";
import { OpenSshTransport } from "../../../src/transport/openssh.js";
import { requireTestbed } from "../../helpers/testbed.js";
import {
  alive,
  bedOptions,
  childrenNamed,
  dispose,
  knownHostsForPort,
  makeSsh,
  SSH_KINDS,
  scratch,
  startProxy,
  strangerKey,
  wrongKnownHosts,
} from "./fixtures.js";
import { transportSuite } from "./suite.js";

for (const kind of SSH_KINDS) {
  transportSuite(kind, async (bed) => makeSsh(kind, bedOptions(bed!)), true);
}

/**
 * Reads every file under dir (recursively) that this process can read. An entry gone between the listing and
 * its stat is skipped: the master's control socket goes away while the master exits, after dispose().
 */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) return filesUnder(path);
    return stat?.isFile() ? [readFileSync(path, "latin1")] : [];
  });
}

/** Watches every process's command line for `secret` until stopped; returns how often it was seen. */
function watchCmdlines(secret: string): { stop(): number } {
  let seen = 0;
  const timer = setInterval(() => {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, "latin1").includes(secret)) seen++;
      } catch {
        // The process ended while we looked.
      }
    }
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return seen;
    },
  };
}

async function firstLineThenFailure(stream: AsyncIterable<string>, onFirst: () => void): Promise<unknown> {
  try {
    for await (const _line of stream) onFirst();
  } catch (error) {
    return error;
  }
  return undefined;
}

for (const kind of SSH_KINDS) {
  describe(`${kind}: authentication, host keys, failures`, () => {
    const bedOr = (t: TestContext) => requireTestbed(t);

    test("a key the server refuses → ConnectionError, exit code 3, naming user and host", async (t) => {
      const bed = bedOr(t);
      if (!bed) return;
      const transport = makeSsh(kind, { ...bedOptions(bed), identityFile: strangerKey(scratch()) });
      const error = await transport.connect().then(() => null, (e: unknown) => e);
      assert.ok(error instanceof Error, "connect must fail");
      assert.equal(error.name, "ConnectionError");
      assert.equal((error as { exitCode?: number }).exitCode, 3);
      assert.match(error.message, new RegExp(`${bed.user}.*${bed.port}`));
      assert.match(error.message, /identity_file/);
      await dispose(transport);
    });

    test("an unknown host is refused, and recorded with acceptNewHostKey", async (t) => {
      const bed = bedOr(t);
      if (!bed) return;
      const knownHosts = join(scratch(), "known_hosts");
      writeFileSync(knownHosts, "");
      const refused = makeSsh(kind, { ...bedOptions(bed), knownHostsFile: knownHosts });
      await assert.rejects(refused.connect(), (e: Error) => {
        assert.equal(e.name, "HostKeyError");
        assert.match(e.message, /--accept-new-host-key/);
        assert.match(e.message, /SHA256:/);
        return true;
      });
      await dispose(refused);

      const accepting = makeSsh(kind, { ...bedOptions(bed), knownHostsFile: knownHosts, acceptNewHostKey: true });
      await accepting.connect();
      assert.equal((await accepting.exec(["echo", "in"])).stdout, "in\n");
      await dispose(accepting);
      assert.match(readFileSync(knownHosts, "utf8"), new RegExp(`^\\[${bed.host}\\]:${bed.port} ssh-ed25519 `, "m"));

      const recorded = makeSsh(kind, { ...bedOptions(bed), knownHostsFile: knownHosts });
      await recorded.connect();
      await dispose(recorded);
    });

    test("a changed host key is refused, even with acceptNewHostKey", async (t) => {
      const bed = bedOr(t);
      if (!bed) return;
      const knownHosts = wrongKnownHosts(bed, scratch());
      const transport = makeSsh(kind, { ...bedOptions(bed), knownHostsFile: knownHosts, acceptNewHostKey: true });
      await assert.rejects(transport.connect(), (e: Error) => {
        assert.equal(e.name, "HostKeyError");
        assert.match(e.message, /CHANGED/);
        return true;
      });
      await dispose(transport);
    });

    for (const failure of ["cut", "freeze"] as const) {
      test(`the network ${failure === "cut" ? "cut" : "silently frozen"} mid-stream → the stream fails within seconds, no leaked ssh process`, async (t) => {
        const bed = bedOr(t);
        if (!bed) return;
        const proxy = await startProxy(bed);
        const dir = scratch();
        const transport = makeSsh(kind, {
          ...bedOptions(bed),
          port: proxy.port,
          knownHostsFile: knownHostsForPort(bed, proxy.port, dir),
          keepaliveInterval: 1,
          keepaliveCountMax: 2,
        });
        try {
          await transport.connect();
          const handle = transport.stream(["sh", "-c", "i=0; while [ $i -lt 300 ]; do echo $i; i=$((i+1)); sleep 0.1; done"]);
          const started = Date.now();
          const error = await firstLineThenFailure(handle.lines, () => proxy[failure]());
          assert.ok(error instanceof Error, "the stream must end with an error");
          assert.equal(error.name, "ConnectionError");
          await assert.rejects(handle.done, { name: "ConnectionError" });
          assert.ok(Date.now() - started < 6000, `took ${Date.now() - started} ms`);
          await sleep(200);
          assert.deepEqual(childrenNamed("ssh"), []);
        } finally {
          await dispose(transport);
          await proxy.close();
        }
      });
    }

    test("password login: one authentication for 20 commands, password never on a command line or in a file", async (t) => {
      const bed = bedOr(t);
      if (!bed) return;
      const dir = scratch();
      let prompts = 0;
      const watcher = watchCmdlines(bed.password);
      const transport = makeSsh(kind, {
        host: bed.host,
        port: bed.port,
        user: bed.user,
        knownHostsFile: bed.knownHosts,
        password: async () => {
          prompts++;
          return bed.password;
        },
        ...(kind === "openssh" ? { controlDir: dir } : {}),
      });
      try {
        for (let i = 0; i < 20; i++) assert.equal((await transport.exec(["echo", String(i)])).stdout, `${i}\n`);
      } finally {
        await dispose(transport);
      }
      assert.equal(watcher.stop(), 0, "the password appeared in a process's command line");
      assert.equal(prompts, 1);
      for (const text of filesUnder(dir)) assert.ok(!text.includes(bed.password), "the password was written to a file");
    });
  });
}

describe("openssh: ControlMaster", () => {
  test("a master outlives close() for the next invocation, and shutdown() stops it", async (t) => {
    const bed = requireTestbed(t);
    if (!bed) return;
    const controlDir = scratch();
    const first = new OpenSshTransport({ host: "srtb", sshConfigFile: bed.sshConfig, controlDir });
    await first.connect();
    assert.equal(first.description, `${bed.user}@${bed.host}:${bed.port}`);
    const pid = await first.masterPid();
    assert.ok(pid && alive(pid));
    assert.equal(await masterGreets(first.controlSocket), "yes", "a live master answers on its socket (no ssh -O check needed)");
    await first.close();
    const second = new OpenSshTransport({ host: "srtb", sshConfigFile: bed.sshConfig, controlDir });
    await second.connect();
    assert.equal(await second.masterPid(), pid);
    await second.shutdown();
    await sleep(100);
    assert.equal(await second.masterPid(), null);
    assert.equal(await masterGreets(second.controlSocket), "no");
  });

  test("the master killed mid-stream → ConnectionError within seconds, no leaked ssh process; the next command reconnects", async (t) => {
    const bed = requireTestbed(t);
    if (!bed) return;
    const transport = new OpenSshTransport({ sshConfigFile: "/dev/null", controlDir: scratch(), ...bedOptions(bed) });
    await transport.connect();
    const master = (await transport.masterPid())!;
    const handle = transport.stream(["sh", "-c", "i=0; while [ $i -lt 300 ]; do echo $i; i=$((i+1)); sleep 0.1; done"]);
    const started = Date.now();
    const error = await firstLineThenFailure(handle.lines, () => process.kill(master, "SIGKILL"));
    assert.ok(error instanceof Error && error.name === "ConnectionError", String(error));
    assert.ok(Date.now() - started < 5000);
    await sleep(200);
    assert.deepEqual(childrenNamed("ssh"), []);
    assert.equal(alive(master), false);
    // The dead master's socket file is still there: nothing answers on it, so the next command starts a new master.
    assert.equal(await masterGreets(transport.controlSocket), "no");
    assert.equal((await transport.exec(["echo", "again"])).stdout, "again\n");
    const restarted = await transport.masterPid();
    assert.ok(restarted && restarted !== master);
    await transport.shutdown();
  });
});
