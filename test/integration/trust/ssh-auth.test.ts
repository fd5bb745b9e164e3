// The password is offered once and forgotten by every other process; the local control dir is ours alone.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { createTransport } from "../../../src/transport/index.js";
import { OpenSshTransport } from "../../../src/transport/openssh.js";
import { ConnectionError } from "../../../src/util/errors.js";
import { scratchDir } from "../../helpers/scratch.js";
import { requireTestbed, type TestBed } from "../../helpers/testbed.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const dir = scratchDir("/tmp/srtrust-");
  dirs.push(dir);
  return dir;
}

function passwordTransport(tb: TestBed, password: (prompt: string) => Promise<string>, controlDir = scratch()): OpenSshTransport {
  return new OpenSshTransport({ host: tb.host, port: tb.port, user: tb.user, knownHostsFile: tb.knownHosts, sshConfigFile: "/dev/null", controlDir, password });
}

test("a wrong password is offered once and refused with exit code 3 within a few seconds", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const prompts: string[] = [];
  const transport = passwordTransport(tb, async (prompt) => {
    prompts.push(prompt);
    return "wrong-password";
  });
  const started = Date.now();
  await assert.rejects(transport.connect(), (error: unknown) => {
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /Authentication as srtest .* failed/);
    return true;
  });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(prompts.length, 1, `prompts: ${JSON.stringify(prompts)}`);
  assert.ok(seconds < 6, `took ${seconds} s`);
});

test("SLURMRAY_PASSWORD is not in the ssh master's environment after authentication", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  // Set in this process's environment, as a user exporting it would, for the whole connection. The bed's own
  // variable holding the password (exported by `test-cluster.sh env`) is not slurmray's to remove: out of the way.
  const bedVariable = process.env["SLURMRAY_TB_PASSWORD"];
  delete process.env["SLURMRAY_TB_PASSWORD"];
  t.after(() => {
    if (bedVariable !== undefined) process.env["SLURMRAY_TB_PASSWORD"] = bedVariable;
  });
  process.env["SLURMRAY_PASSWORD"] = tb.password;
  const transport = createTransport({ kind: "ssh", implementation: "openssh", host: tb.host, port: tb.port, user: tb.user, knownHostsFile: tb.knownHosts, sshConfigFile: "/dev/null" });
  assert.ok(transport instanceof OpenSshTransport);
  try {
    assert.equal((await transport.exec(["echo", "ok"])).stdout, "ok\n");
    const pid = await transport.masterPid();
    assert.ok(pid);
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    assert.ok(!environ.includes("SLURMRAY_PASSWORD"), "the variable is in the master's environment");
    assert.ok(!environ.includes(tb.password), "the password is in the master's environment");
  } finally {
    delete process.env["SLURMRAY_PASSWORD"];
    await transport.shutdown();
  }
});

test("a control dir that another user owns, or that others can write, is refused before connecting", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const theirs = scratch();
  const uid2 = Number(execFileSync("id", ["-u", tb.user2], { encoding: "utf8" }));
  chownSync(theirs, uid2, uid2);
  const open = scratch();
  chmodSync(open, 0o777);
  const inside = join(scratch(), "cm");
  for (const [dir, why] of [
    [theirs, /is owned by uid \d+, not by you/],
    [open, /can be written by other users \(mode 777\)/],
  ] as const) {
    const transport = passwordTransport(tb, async () => tb.password, dir);
    await assert.rejects(transport.connect(), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.match(error.message, why);
      assert.match(error.message, /XDG_RUNTIME_DIR/);
      return true;
    });
  }
  const fine = passwordTransport(tb, async () => tb.password, inside);
  try {
    assert.equal((await fine.exec(["true"])).code, 0);
  } finally {
    await fine.shutdown();
  }
});
