// Proves the test bed is a real Slurm cluster behind a real sshd: logins (key, second user, tcsh user,
// password), the per-user session limit, the shared and queue dirs, three nodes, a multi-node job, accounting.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { scratchDir } from "../../helpers/scratch.js";
import { bedTransport, keyOf, requireTestbed, sshArgs, sshBaseArgs, type TestBed } from "../../helpers/testbed.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ssh argv` with a timeout; `whileRunning` is polled every 50 ms until the process ends. */
function runSsh(argv: string[], env: NodeJS.ProcessEnv = process.env, whileRunning?: () => void): Promise<Run> {
  const child = spawn("ssh", argv, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const kill = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const poll = whileRunning ? setInterval(whileRunning, 50) : undefined;
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(kill);
      clearInterval(poll);
      resolve({ code, stdout, stderr });
    });
  });
}

async function remote(tb: TestBed, command: string, user?: string): Promise<string> {
  const r = await runSsh([...sshArgs(tb, user), command]);
  assert.equal(r.code, 0, `ssh ${command} failed: ${r.stderr}`);
  return r.stdout;
}

test("key login as the test user runs a command on this machine", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  assert.equal((await remote(tb, "hostname")).trim(), hostname());
  assert.equal((await remote(tb, "id -un")).trim(), tb.user);
});

test("the second test user logs in with its own key", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  assert.equal((await remote(tb, "id -un", tb.user2)).trim(), tb.user2);
});

test("the tcsh user logs in with its key, and tcsh runs its commands", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  assert.equal((await remote(tb, "id -un", tb.tcshUser)).trim(), tb.tcshUser);
  assert.match(await remote(tb, "echo $version", tb.tcshUser), /^tcsh 6\./);
});

test("each bed user's ssh_config alias logs in as that user (bedTransport)", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  for (const user of [tb.user, tb.user2, tb.tcshUser, tb.limitedUser]) {
    const transport = bedTransport(tb, "/tmp/srtb-alias-", user);
    try {
      assert.equal((await transport.exec(["id", "-un"])).stdout.trim(), user);
    } finally {
      await transport.shutdown();
      rmSync(dirname(transport.controlSocket), { recursive: true, force: true });
    }
  }
});

test("every bed user's authorized_keys holds this bed's key once, marked with the bed dir (down removes it)", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  for (const user of [tb.user, tb.user2, tb.tcshUser, tb.limitedUser]) {
    const marker: string = ` slurmray-testbed:${tb.dir}`;
    const authorized: string = await remote(tb, "cat .ssh/authorized_keys", user);
    const ours = authorized.split("\n").filter((line) => line.endsWith(marker));
    const publicKey = readFileSync(`${keyOf(tb, user)}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    assert.deepEqual(ours, [`${publicKey}${marker}`], user);
  }
});

/** Opens `count` sessions at once over one connection as `user`; returns how many sshd refused. */
async function refusedSessions(tb: TestBed, user: string, count: number): Promise<number> {
  const dir = scratchDir("/tmp/srtb-mux-");
  const mux = ["-S", join(dir, "s")];
  try {
    // -f: ssh forks once authenticated; stdio ignored so that the forked master does not hold our pipes.
    const master = spawnSync("ssh", [...sshArgs(tb, user, [...mux, "-M", "-N", "-f", "-o", "ControlPersist=60"])], { stdio: "ignore", timeout: 30_000 });
    assert.equal(master.status, 0, "the master connection failed");
    // A refused mux client says so, then falls back to a connection of its own: count the refusals.
    const runs = await Promise.all(Array.from({ length: count }, () => runSsh([...sshArgs(tb, user, mux), "sleep 3"])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    return runs.filter((r) => /Session open refused by peer/.test(r.stderr)).length;
  } finally {
    spawnSync("ssh", [...sshArgs(tb, user, [...mux, "-O", "exit"])], { stdio: "ignore", timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
  }
}

test("sshd refuses the limited user's sessions beyond its MaxSessions, not the main user's", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const count = tb.limitedMaxSessions + 2;
  assert.equal(await refusedSessions(tb, tb.limitedUser, count), 2);
  assert.equal(await refusedSessions(tb, tb.user, count), 0);
});

test("the queue dir and the shared dir are root-owned sticky 1777 dirs of this bed", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  for (const dir of [tb.queueDir, tb.sharedDir]) {
    assert.ok(dir.startsWith(`${tb.dir}/`), dir);
    assert.equal((await remote(tb, `stat -c '%U %a' ${dir}`, tb.user2)).trim(), "root 1777");
  }
});

test("user and user2 both write in the shared dir, and neither can remove or replace the other's files", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const mine = `${tb.sharedDir}/t-${randomBytes(4).toString("hex")}`;
  const theirs = `${mine}-2`;
  try {
    await remote(tb, `mkdir -m 755 ${mine} && echo mine > ${mine}/f`);
    await remote(tb, `mkdir -m 755 ${theirs} && echo theirs > ${theirs}/f`, tb.user2);
    const attack = await runSsh([...sshArgs(tb, tb.user2), `rm -f ${mine}/f; mv ${mine} ${mine}.x; rm -rf ${mine}; echo planted > ${mine}/f`]);
    assert.notEqual(attack.code, 0);
    assert.equal((await remote(tb, `cat ${mine}/f`)).trim(), "mine");
    assert.equal((await remote(tb, `cat ${theirs}/f`)).trim(), "theirs");
  } finally {
    await remote(tb, `rm -rf ${mine}`);
    await remote(tb, `rm -rf ${theirs}`, tb.user2);
  }
});

test("sinfo over ssh shows nodes n1..n3 up in partitions debug (default) and short", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const nodes = (await remote(tb, "sinfo -h -N -p debug -o '%N %t'")).trim().split("\n").sort();
  // alloc too: other tests may be running jobs on the shared bed; a trailing * or ~ would mean not responding.
  assert.equal(nodes.length, 3, nodes.join("\n"));
  for (const [i, line] of nodes.entries()) assert.match(line, new RegExp(`^n${i + 1} (idle|mix|alloc)$`));
  const partitions = (await remote(tb, "sinfo -h -o '%P %l %D'")).trim().split("\n").sort();
  assert.deepEqual(partitions, ["debug* infinite 3", "short 5:00 3"]);
});

test("a three-node batch job runs one task on each of n1, n2, n3", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  // Every node shares this host's name, so the node is read from SLURMD_NODENAME.
  const out = await remote(
    tb,
    "d=$(mktemp -d) && cd \"$d\" && sbatch -Q -N3 -p short -t 2 --wait -o out --wrap 'srun printenv SLURMD_NODENAME'" +
      ' && cat out; s=$?; rm -rf "$d"; exit $s',
  );
  assert.deepEqual(out.trim().split("\n").sort(), ["n1", "n2", "n3"]);
});

test("sacct reports a finished job of the test user as COMPLETED", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const jobId = (await remote(tb, "cd /tmp && sbatch --parsable -t 1 --wait -o /dev/null --wrap true")).trim();
  assert.match(jobId, /^\d+$/);
  // sacct lags squeue by a few seconds and may briefly show a wrong user: poll until the record is final.
  let record = "";
  for (let i = 0; i < 40; i++) {
    record = (await remote(tb, `sacct -X -n -P -j ${jobId} -o State,User`)).trim();
    if (record === `COMPLETED|${tb.user}`) break;
    await sleep(500);
  }
  assert.equal(record, `COMPLETED|${tb.user}`);
});

// The password reaches ssh only through an environment variable read by the askpass helper.
const askpassDir = scratchDir("srtb-askpass-");
after(() => rmSync(askpassDir, { recursive: true, force: true }));
const ASKPASS = join(askpassDir, "askpass.sh");
writeFileSync(ASKPASS, '#!/bin/sh\nprintf "%s\\n" "$SRTB_TEST_PASSWORD"\n', { mode: 0o700 });

function passwordLogin(tb: TestBed, password: string, whileRunning?: () => void): Promise<Run> {
  const argv = [
    ...sshBaseArgs(tb),
    "-o",
    "PubkeyAuthentication=no",
    "-o",
    "PreferredAuthentications=password",
    "-o",
    "NumberOfPasswordPrompts=1",
    `${tb.user}@${tb.host}`,
    "sleep 0.3; id -un",
  ];
  const env = { ...process.env, SSH_ASKPASS: ASKPASS, SSH_ASKPASS_REQUIRE: "force", SRTB_TEST_PASSWORD: password };
  return runSsh(argv, env, whileRunning);
}

/** Command lines of every process right now that contain `secret`. */
function cmdlinesContaining(secret: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes(secret)) found.push(`${pid}: ${cmdline.replaceAll("\0", " ")}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

test("password login works through SSH_ASKPASS, with the password on no command line", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  assert.ok(!readFileSync(ASKPASS, "utf8").includes(tb.password));
  const leaks: string[] = [];
  const r = await passwordLogin(tb, tb.password, () => leaks.push(...cmdlinesContaining(tb.password)));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), tb.user);
  assert.deepEqual(leaks, []);
});

test("a wrong password is refused", async (t) => {
  const tb = requireTestbed(t);
  if (!tb) return;
  const r = await passwordLogin(tb, `${tb.password}-wrong`);
  assert.equal(r.code, 255);
  assert.match(r.stderr, /Permission denied/);
});
