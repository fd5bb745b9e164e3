// `run --dashboard` with a real Ray 2.60 dashboard on the Slurm test bed: the head starts it, the CLI forwards it
// once the job runs and prints its URL once, and the page and Ray's API answer through it, while the dashboard
// itself refuses requests without the job's token.
// The job's env (ray[default]) is made beforehand with uv, because the bed's uv needs SSL_CERT_FILE to reach PyPI;
// slurmray then finds it in step and installs nothing.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { JobRecord } from "../../../src/model/job.js";
import { startCli } from "../../helpers/cli.js";
import { sshArgs, type TestBed } from "../../helpers/testbed.js";
import { bedProject, fetchThrough } from "./project.js";
import { Terminal } from "./terminal.js";

const RAY = "ray[default]==2.60.0";
const WORK = `
import os, time

def until_released(limit=240):
    flag = os.path.join(os.environ["SLURMRAY_JOB_DIR"], "release")
    print("started", flush=True)
    for _ in range(limit * 10):
        if os.path.exists(flag):
            return "released"
        time.sleep(0.1)
    return "timed out"
`;

function remote(tb: TestBed, script: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync("ssh", [...sshArgs(tb), "sh", "-s"], { input: script, encoding: "utf8", timeout: 900_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function waitFor(what: string, check: () => string | null, seconds: number): Promise<string> {
  for (let i = 0; i < seconds * 4; i++) {
    const found = check();
    if (found) return found;
    await sleep(250);
  }
  throw new Error(`never saw ${what}`);
}

it("run --dashboard forwards the job's real Ray dashboard, with its token, while the job runs", { timeout: 1_000_000 }, async (t) => {
  const project = bedProject(t, { "work.py": WORK, "requirements.txt": `${RAY}\n` }, 'name = "cockpitray"\nrequirements = "requirements.txt"\nstrict_versions = false\n');
  if (!project) return;
  const { tb, cwd, base } = project;
  const python = execFileSync(join(cwd, ".venv", "bin", "python"), ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8" }).trim();
  const env = `${base}/envs/cockpitray-py${python}`;
  const made = remote(tb, `set -e\nuv venv -q --python /usr/bin/python${python} ${env}\nSSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt VIRTUAL_ENV=${env} uv pip install -q '${RAY}'\n`);
  assert.equal(made.code, 0, made.stderr);

  const pympDirs = (): string[] => remote(tb, "ls -d /tmp/pymp-* 2>/dev/null; true").stdout.split("\n").filter(Boolean);
  const pympBefore = new Set(pympDirs());
  const { done, child } = startCli(["run", "work.py:until_released", "--dashboard"], { cwd, timeoutMs: 600_000 });
  let stderr = "";
  child.stderr!.on("data", (d: string) => (stderr += d));
  const url = await waitFor("the dashboard's URL", () => /Ray dashboard of job \S+: (\S+)/.exec(stderr)?.[1] ?? null, 240);
  const id = /job (\d{8}-\d{6}-[0-9a-f]{6})/.exec(stderr)![1]!;
  const job = JSON.parse(readFileSync(join(cwd, ".slurmray", "jobs", `${id}.json`), "utf8")) as JobRecord;
  try {
    const login = await fetch(url, { redirect: "manual" });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    // The dashboard answers a few seconds after Ray's head: the proxy says 502 until then.
    let answer: Response | null = null;
    for (let i = 0; i < 120 && answer?.status !== 200; i++) {
      if (answer) await sleep(500);
      answer = await fetch(new URL("/api/version", url), { headers: { cookie } });
    }
    assert.equal(answer!.status, 200);
    assert.equal(((await answer!.json()) as { ray_version: string }).ray_version, "2.60.0");
    const page = await fetch(new URL("/", url), { headers: { cookie } });
    assert.match(await page.text(), /<title>Ray Dashboard<\/title>/);
    // Asked to, Ray sets its token as a browser cookie: the proxy keeps it out of the browser's store.
    const authenticated = await fetch(new URL("/api/authenticate", url), { method: "POST", headers: { cookie } });
    assert.equal(authenticated.status, 200);
    assert.equal(authenticated.headers.get("set-cookie"), null);

    // The live view's `d` key opens its own forward to the same dashboard.
    const term = new Terminal(cwd, ["jobs"]);
    t.after(() => term.close());
    await term.waitFor(new RegExp(`> ${id} .*RUNNING`));
    term.press("d");
    const shown = /open while this view runs\): (http\S+)/.exec(await term.waitFor(/Ray dashboard of job \S+ \(open while this view runs\): http\S+[0-9a-f]{48}/))![1]!;
    assert.notEqual(shown, url);
    assert.equal((await fetchThrough(shown, "/api/version")).status, 200);
    term.press("q");
    await term.waitFor(/EXITED 0/);

    const head = JSON.parse(remote(tb, `cat ${job.remoteDir}/ray/head.json`).stdout) as { dashboard: string };
    const direct = remote(tb, `curl -s -o /dev/null -w '%{http_code}' http://${head.dashboard}/api/version`).stdout;
    assert.equal(direct, "401", "Ray's dashboard refuses a request without the job's token");
  } finally {
    remote(tb, `touch ${job.remoteDir}/release`);
  }
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), '"released"');
  assert.equal(stderr.match(/Ray dashboard of job/g)?.length, 1, "the URL is printed once");
  // What Ray's processes made in the temp dir (multiprocessing's pymp-* dirs) goes with the node's own temp dir.
  await waitFor("no pymp-* dir of the job's Ray left in /tmp", () => (pympDirs().every((dir) => pympBefore.has(dir)) ? "none" : null), 30);
});
