// slurmray doctor against the real sshd + Slurm test bed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { quote } from "../../../src/util/shell.js";
import { runCli, tempProject } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";
import { removeRemote, requireTestbed, scratchBaseDir, sshArgs, type TestBed, testbed } from "../../helpers/testbed.js";
import { testbedToml } from "../../helpers/testbed-project.js";
import { type PipSite, pipSite, userPipConf } from "../../helpers/tls-index.js";

/** A fresh ed25519 key pair in a temporary folder (removed by the caller). */
function newKey(): { dir: string; key: string; pub: string } {
  const dir = scratchDir("sr-doctor-key-");
  const key = join(dir, "id");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "slurmray-doctor-test", "-f", key]);
  return { dir, key, pub: execFileSync("ssh-keygen", ["-y", "-f", key], { encoding: "utf8" }).trim() };
}

/** Runs a shell command on the bed as its main user, with the bed's own key. */
function onBed(tb: TestBed, command: string): string {
  return execFileSync("ssh", [...sshArgs(tb), command], { encoding: "utf8", timeout: 30_000 });
}

describe("slurmray doctor", () => {
  // The probe makes the base dir (its "base dir writable" check): a scratch one, removed at the end.
  let base = "";
  before(() => {
    const tb = testbed();
    if (tb) base = scratchBaseDir(tb);
  });
  after(() => {
    const tb = testbed();
    if (tb && base) removeRemote(tb, [base]);
  });

  it("passes every check on a healthy target", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const cwd = tempProject({ "slurmray.toml": testbedToml(tb, { baseDir: base, extra: 'python = "3.11"\n' }) });
    const r = await runCli(["doctor"], { cwd });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const name of ["connection", "remote Python", "uv", "package index", "Slurm commands", "sacct", "partitions", "base dir writable", "free disk"]) {
      assert.match(r.stdout, new RegExp(`✓ ${name}: `), name);
    }
    assert.doesNotMatch(r.stdout, /[⚠✗]/);
    assert.match(r.stdout, /partitions: debug\*, short/);
  });

  it("--json prints one object with every check", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const cwd = tempProject({ "slurmray.toml": testbedToml(tb, { baseDir: base }).replace('partition = "debug"', 'partition = "gpu"') });
    const r = await runCli(["doctor", "--json"], { cwd });
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { target: string; exit_code: number; checks: Record<string, unknown>[] };
    assert.equal(out.target, "tb");
    assert.equal(out.exit_code, 1);
    assert.ok(out.checks.length >= 9);
    for (const check of out.checks) {
      assert.deepEqual(Object.keys(check).sort(), ["detail", "fix", "name", "status"]);
      assert.ok(["ok", "warn", "fail"].includes(check["status"] as string));
      assert.equal(typeof check["detail"], "string");
      assert.equal(check["fix"] === null, check["status"] === "ok", JSON.stringify(check));
    }
    const partitions = out.checks.find((check) => check["name"] === "partitions");
    assert.deepEqual(partitions, { name: "partitions", status: "fail", detail: "debug*, short (configured: gpu)", fix: "set partition to one of: debug, short" });
  });

  it("a server target: the bed's root-owned 1777 queue dir passes; a missing one or one a user made fails with the admin's command", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const server = (queueDir: string) => `[project]\ndefault_target = "box"\n[targets.box]\nkind = "server"\nhost = "${tb.host}"\nport = ${tb.port}\nuser = "${tb.user}"\nidentity_file = "${tb.key}"\nknown_hosts = "${tb.knownHosts}"\nbase_dir = "${base}"\nqueue_dir = "${queueDir}"\nlimits = { cpus = 2, mem = 2 }\n`;
    const good = await runCli(["doctor", "--json"], { cwd: tempProject({ "slurmray.toml": server(tb.queueDir) }) });
    const goodCheck = (JSON.parse(good.stdout) as { checks: { name: string; status: string }[] }).checks.find((c) => c.name === "queue dir");
    assert.equal(goodCheck?.status, "ok", good.stdout);
    const mine = onBed(tb, "d=$(mktemp -d /tmp/srq-user-XXXXXX) && chmod 1777 \"$d\" && echo \"$d\"").trim();
    t.after(() => onBed(tb, `rm -rf ${quote(mine)}`));
    for (const dir of [mine, "/tmp/slurmray-no-such-queue"]) {
      const r = await runCli(["doctor"], { cwd: tempProject({ "slurmray.toml": server(dir) }) });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, new RegExp(`✗ queue dir: .*\\n    fix: ask an admin of the server to run once: sudo install -d -m 1777 -o root -g root ${dir}`));
    }
  });

  it("names a missing partition and how to fix it", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const cwd = tempProject({ "slurmray.toml": testbedToml(tb, { baseDir: base }).replace('partition = "debug"', 'partition = "gpu"') });
    const r = await runCli(["doctor"], { cwd });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✗ partitions: debug\*, short \(configured: gpu\)\n {4}fix: set partition to one of: debug, short/);
  });

  it("refuses an unknown host key, says how to accept it, and exits 3", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const cwd = tempProject({});
    const emptyKnownHosts = join(cwd, "known_hosts");
    writeFileSync(emptyKnownHosts, "");
    writeFileSync(join(cwd, "slurmray.toml"), testbedToml(tb, { baseDir: base, knownHosts: emptyKnownHosts }));
    const r = await runCli(["doctor"], { cwd, env: { HOME: cwd } });
    assert.equal(r.code, 3);
    assert.match(r.stdout, /✗ connection: .*\n {4}fix: .*--accept-new-host-key/s);
  });

  it("bad credentials (a key the server does not know, a wrong password) exit 3", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const { dir, key } = newKey();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cwd = tempProject({ "slurmray.toml": testbedToml(tb, { baseDir: base }).replace(`identity_file = "${tb.key}"`, `identity_file = "${key}"`) });
    const r = await runCli(["doctor"], { cwd, env: { HOME: cwd, SLURMRAY_PASSWORD: "not-the-password" } });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /✗ connection: /);
  });

  // A login whose PATH lacks /usr/local/bin, where the bed installs uv: a key of the bed user, added for this
  // test with a forced command that runs the requested command under PATH=/usr/bin:/bin. Only connections
  // made with that key see it; the user's other logins are untouched. The key is removed afterwards.
  it("uv missing is a warning (⚠) and doctor still exits 0", async (t) => {
    const tb = requireTestbed(t);
    if (!tb) return;
    const { dir, key, pub } = newKey();
    const line = `command="PATH=/usr/bin:/bin; export PATH; eval \\"$SSH_ORIGINAL_COMMAND\\"",no-agent-forwarding,no-X11-forwarding ${pub}`;
    const keys = "$HOME/.ssh/authorized_keys";
    onBed(tb, `printf '%s\\n' ${quote(line)} >> ${keys}`);
    t.after(() => {
      onBed(tb, `grep -v -x -F ${quote(line)} ${keys} > ${keys}.sr-tmp; cat ${keys}.sr-tmp > ${keys}; rm -f ${keys}.sr-tmp`);
      rmSync(dir, { recursive: true, force: true });
    });
    const toml = testbedToml(tb, { baseDir: base, extra: 'python = "3.11"\n' }).replace(`identity_file = "${tb.key}"`, `identity_file = "${key}"`);
    const cwd = tempProject({ "slurmray.toml": toml });
    const r = await runCli(["doctor"], { cwd });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /⚠ uv: not found \(optional: pip is used instead, slower\)\n {4}fix: install uv on the target/);
    assert.match(r.stdout, /✓ Slurm commands: /);
    assert.doesNotMatch(r.stdout, /✗/);
  });
});

// The index check, on a site whose index and CA are set in the user's pip.conf only (the bed's second user).
describe("slurmray doctor: the package index", () => {
  let site: PipSite | undefined;
  before(async () => {
    const tb = testbed();
    if (tb) site = await pipSite(tb, "/tmp/sr-doctor-idx-");
  });
  after(() => site?.close());

  it("passes when pip's configuration names the CA, and fails naming what to set when the CA is wrong", async (t) => {
    const tb = requireTestbed(t);
    if (!tb || !site) return;
    const { index, base } = site;
    const pipConf = await userPipConf(site.transport);
    t.after(() => pipConf.remove());
    const toml = testbedToml(tb, { baseDir: base, extra: 'python = "3.11"\n' }).replace(`user = "${tb.user}"`, `user = "${tb.user2}"`).replace(`identity_file = "${tb.key}"`, `identity_file = "${tb.key2}"`);
    const cwd = tempProject({ "slurmray.toml": toml });

    await pipConf.write([`index-url = ${index.url}`], index.caPem, `${base}/ca.pem`);
    const good = await runCli(["doctor", "--json"], { cwd });
    const check = (out: string): Record<string, unknown> | undefined =>
      (JSON.parse(out) as { checks: Record<string, unknown>[] }).checks.find((c) => c["name"] === "package index");
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.equal(check(good.stdout)?.["status"], "ok", good.stdout);
    assert.match(check(good.stdout)?.["detail"] as string, new RegExp(`^${index.url.replace(/\/$/, "")} reachable \\(HTTP 404; CA: ${base}/ca.pem\\)`));

    // A bundle without the site's CA (here: the system bundle's first certificate only).
    const other = execFileSync("sh", ["-c", "sed -n '1,/END CERTIFICATE/p' /etc/ssl/certs/ca-certificates.crt"], { encoding: "utf8" });
    await pipConf.write([`index-url = ${index.url}`], other, `${base}/ca.pem`);
    const bad = await runCli(["doctor", "--json"], { cwd });
    assert.equal(bad.code, 1);
    assert.equal(check(bad.stdout)?.["status"], "fail");
    assert.match(check(bad.stdout)?.["detail"] as string, /certificate verify failed/i);
    assert.match(check(bad.stdout)?.["fix"] as string, /cert = \/path\/to\/ca-bundle\.pem` under \[global\] in ~\/\.config\/pip\/pip\.conf/);
  });
});
