// `slurmray dashboard JOB` on the Slurm test bed: the forward through the login node and the loopback proxy
// that adds the job's Ray token. A real Ray dashboard needs ray[default] (too heavy for the bed), so the job
// plays the Ray head: it writes the token and head.json as ray_cluster.py does and serves an HTTP page that
// answers 401 without `Authorization: Bearer <token>`.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig } from "../../../src/config/load.js";
import { dashboardAddress, openDashboardWhenReady } from "../../../src/jobs/dashboard.js";
import { findJob } from "../../../src/jobs/registry.js";
import { closeSessions } from "../../../src/jobs/session.js";
import type { JobRecord } from "../../../src/model/job.js";
import { REPO_ROOT, runCli, startCli } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";
import { sshArgs } from "../../helpers/testbed.js";
import { bedProject, fetchThrough } from "./project.js";

const HEAD = `
import http.server, json, os, secrets, socket, threading, time

def serve(seconds=300):
    ray_dir = os.path.join(os.environ["SLURMRAY_JOB_DIR"], "ray")
    os.makedirs(ray_dir, mode=0o700, exist_ok=True)
    token = secrets.token_hex(32)
    fd = os.open(os.path.join(ray_dir, "token"), os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, token.encode())
    os.close(fd)

    class Dashboard(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.headers.get("Authorization") == "Bearer " + token
            page = "<title>Ray Dashboard</title> path=%s cookie=%s" % (self.path, self.headers.get("Cookie"))
            body = (page if ok else "no token").encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    ip = socket.gethostbyname(socket.gethostname())
    server = http.server.ThreadingHTTPServer((ip, 0), Dashboard)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(os.path.join(ray_dir, "head.json"), "w") as f:
        json.dump({"address": "%s:1" % ip, "dashboard": "%s:%d" % (ip, server.server_address[1])}, f)
    print("serving", flush=True)
    time.sleep(seconds)
`;

function recordPath(cwd: string, id: string): string {
  return join(cwd, ".slurmray", "jobs", `${id}.json`);
}

/** Changes the local record as `run --dashboard` would have written it. */
function editRecord(cwd: string, id: string, change: (job: JobRecord) => void): void {
  const job = JSON.parse(readFileSync(recordPath(cwd, id), "utf8")) as JobRecord;
  change(job);
  writeFileSync(recordPath(cwd, id), JSON.stringify(job, null, 2));
}

async function waitForLog(cwd: string, id: string, text: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const logs = await runCli(["logs", id], { cwd });
    if (logs.stdout.includes(text)) return;
    await sleep(1000);
  }
  throw new Error(`job ${id} never printed ${text}`);
}

async function dashboardRefused(cwd: string, id: string, why: RegExp): Promise<void> {
  const r = await runCli(["dashboard", id, "--no-browser"], { cwd });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, why);
  assert.equal(r.stdout, "");
}

const RAY_CLUSTER_DIR = join(REPO_ROOT, "src", "remote");

/** head.json's content and the head's `ray start` flags from ray_cluster.py, with or without the dashboard. */
function headOf(dashboard: boolean): { head: Record<string, string>; command: string[] } {
  const script = [
    "import json, sys",
    `sys.path.insert(0, ${JSON.stringify(RAY_CLUSTER_DIR)})`,
    "import ray_cluster",
    "ports = {name: 20000 + i for i, name in enumerate(ray_cluster.SINGLE_PORTS)}",
    "command = ray_cluster.ray_command(0, None, ports, '/tmp/x', '10.0.0.5')",
    "print(json.dumps({'head': ray_cluster.head_info('10.0.0.5', ports), 'command': command}))",
  ].join("\n");
  // ray_command only needs a `ray` on PATH to name.
  const bin = scratchDir("srray-");
  writeFileSync(join(bin, "ray"), "", { mode: 0o755 });
  const env = { ...process.env, SLURMRAY_RAY_DASHBOARD: dashboard ? "1" : "0", PATH: `${bin}:${process.env["PATH"]}` };
  return JSON.parse(execFileSync("python3", ["-c", script], { env, encoding: "utf8" }));
}

describe("the dashboard's address in head.json", () => {
  it("takes host:port only, so nothing else reaches the forward's spec", () => {
    assert.deepEqual(dashboardAddress('{"address": "10.0.0.5:20000", "dashboard": "10.0.0.5:20002"}'), { host: "10.0.0.5", port: 20002 });
    assert.deepEqual(dashboardAddress('{"dashboard": "node-3.cluster:8265"}'), { host: "node-3.cluster", port: 8265 });
    for (const text of [null, "", "{", '{"address": "10.0.0.5:20000"}', '{"dashboard": "h:0"}', '{"dashboard": "h:70000"}', '{"dashboard": "h;rm -rf ~:1"}', '{"dashboard": 8265}']) {
      assert.equal(dashboardAddress(text), null, String(text));
    }
  });
});

describe("ray_cluster.py and the dashboard", () => {
  it("records the dashboard's host:port in head.json and lets the login node reach it, only when asked", () => {
    const on = headOf(true);
    assert.deepEqual(on.head, { address: "10.0.0.5:20000", dashboard: "10.0.0.5:20002" });
    assert.ok(on.command.join(" ").includes("--include-dashboard true --dashboard-host 10.0.0.5"), on.command.join(" "));
    const off = headOf(false);
    assert.deepEqual(off.head, { address: "10.0.0.5:20000" });
    assert.ok(!off.command.includes("--dashboard-host") && off.command.join(" ").includes("--include-dashboard false"));
  });
});

describe("slurmray dashboard on the Slurm test bed", () => {
  it("forwards the job's dashboard through the login node and adds its token; says why when it cannot", async (t) => {
    const project = bedProject(t, { "head.py": HEAD });
    if (!project) return;
    const { tb, cwd } = project;
    const started = await runCli(["run", "head.py:serve", "--detach"], { cwd, timeoutMs: 120_000 });
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    try {
      await waitForLog(cwd, id, "serving");
      await dashboardRefused(cwd, id, /runs without Ray.*slurmray run --dashboard/);
      editRecord(cwd, id, (job) => (job.spec.ray = true));
      await dashboardRefused(cwd, id, /not started with --dashboard/);
      editRecord(cwd, id, (job) => (job.spec.env = { SLURMRAY_RAY_DASHBOARD: "1" }));

      // The page itself refuses a request without the token, seen from the login node.
      const { remoteDir } = JSON.parse(readFileSync(recordPath(cwd, id), "utf8")) as JobRecord;
      const head = JSON.parse(spawnSync("ssh", [...sshArgs(tb), `cat ${remoteDir}/ray/head.json`], { encoding: "utf8" }).stdout);
      const direct = spawnSync("ssh", [...sshArgs(tb), `curl -s -o /dev/null -w '%{http_code}' http://${head.dashboard}/`], { encoding: "utf8" }).stdout;
      assert.equal(direct, "401", "the page needs the token");

      // A graphical session whose xdg-open records what it was asked to open.
      const bin = scratchDir("srbrowser-");
      writeFileSync(join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s' "$1" > ${bin}/opened\n`, { mode: 0o755 });
      const browser = { DISPLAY: ":0", PATH: `${bin}:${process.env["PATH"]}` };
      const { child, done } = startCli(["dashboard", id], { cwd, timeoutMs: 60_000, env: browser });
      let url = "";
      child.stdout!.on("data", (d: string) => (url += d));
      for (let i = 0; i < 300 && !url.includes("\n"); i++) await sleep(100);
      url = url.trim();
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?slurmray=[0-9a-f]{48}$/);
      const origin = new URL(url).origin;
      assert.equal((await fetch(`${origin}/nodes`)).status, 403, "the proxy serves only the browser that opened its URL");
      const page = await fetchThrough(url, "/nodes?view=summary");
      assert.equal(page.status, 200, "the proxy added the token");
      assert.equal(await page.text(), "<title>Ray Dashboard</title> path=/nodes?view=summary cookie=None", "the proxy's own cookie stays here");

      for (let i = 0; i < 50 && !existsSync(join(bin, "opened")); i++) await sleep(100);
      assert.equal(readFileSync(join(bin, "opened"), "utf8"), url, "the browser was opened on the URL");

      child.kill("SIGINT");
      const closed = await done;
      assert.equal(closed.code, 0, closed.stderr);
      assert.match(closed.stderr, /dashboard of job .* closed; the job goes on/);
      await assert.rejects(fetch(url), "the proxy is closed after Ctrl-C");

      // What `run --dashboard` does once the job is submitted: wait for the head's dashboard, then open it.
      const opened = await openDashboardWhenReady(loadConfig(cwd), findJob(cwd, id), new AbortController().signal, 100);
      assert.ok(opened);
      try {
        assert.equal((await fetchThrough(opened.url, "/")).status, 200);
      } finally {
        await opened.close();
        await closeSessions();
      }

      assert.equal((await runCli(["cancel", id], { cwd })).code, 0);
      await dashboardRefused(cwd, id, /ended CANCELLED/);
    } finally {
      await runCli(["cancel", id], { cwd });
    }
  });
});
