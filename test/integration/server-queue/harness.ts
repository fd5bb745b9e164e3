// The server queue on the test bed: its sshd and two real users (srtest, srtest2), each running queue.py over
// ssh, one command per operation, as the server backend does. queue.py and a small job script are copied to a
// fresh dir; the queue dir is root-owned and sticky, as an admin makes it (these tests run as root, on the
// bed's machine). Everything is removed afterwards.
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { remoteFile } from "../../../src/remote/index.js";
import { quoteArgv } from "../../../src/util/shell.js";
import { scratchDir } from "../../helpers/scratch.js";
import { sshArgs, type TestBed } from "../../helpers/testbed.js";

/** A job that keeps a cpu busy (or sleeps) for some seconds, then records what it saw in times.json. */
const JOB_PY = `import json, os, sys, time
start = time.time()
seconds, busy = float(sys.argv[1]), sys.argv[2] == "busy"
while time.time() < start + seconds:
    if not busy:
        time.sleep(0.02)
info = {"start": start, "end": time.time(), "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "cores": sorted(os.sched_getaffinity(0))}
with open("times.json", "w") as f:
    json.dump(info, f)
`;

export interface Times {
  start: number;
  end: number;
  cuda: string;
  cores: number[];
}

export interface Reply {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
}

export type Job = Record<string, unknown>;

export class QueueBed {
  readonly base: string;
  readonly queueDir: string;
  readonly jobsDir: string;
  private readonly script: string;
  private readonly jobPy: string;
  private count = 0;

  constructor(readonly tb: TestBed) {
    this.base = scratchDir("/tmp/srq-it-");
    chmodSync(this.base, 0o755);
    this.script = join(this.base, "queue.py");
    copyFileSync(remoteFile("queue.py"), this.script);
    chmodSync(this.script, 0o644);
    this.jobPy = join(this.base, "job.py");
    writeFileSync(this.jobPy, JOB_PY, { mode: 0o644 });
    this.queueDir = join(this.base, "queue");
    this.jobsDir = join(this.base, "jobs");
    for (const dir of [this.queueDir, this.jobsDir]) {
      mkdirSync(dir);
      chmodSync(dir, 0o1777);
    }
  }

  /** Runs one shell command on the bed as `user` over a fresh ssh connection. */
  ssh(user: string, command: string): Promise<Reply> {
    return new Promise((resolve) => {
      execFile("ssh", [...sshArgs(this.tb, user), command], { encoding: "utf8", timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(stdout);
        } catch {
          // left empty: the test asserts on code and stderr
        }
        resolve({ code, stdout, stderr, json });
      });
    });
  }

  /** `python3 queue.py --queue-dir Q ARGS...` as `user`. */
  queue(user: string, args: string[]): Promise<Reply> {
    return this.ssh(user, `exec python3 ${quoteArgv([this.script, "--queue-dir", this.queueDir, ...args])}`);
  }

  /** Submits job.py (busy or sleeping for `seconds`) as `user` in a new job dir; returns its id and dir. */
  async submit(user: string, limits: object, opts: string[], seconds: number, mode: "busy" | "sleep" = "sleep") {
    return (await this.submitMany(user, 1, limits, opts, seconds, mode))[0]!;
  }

  /** Submits `count` such jobs as `user` in one ssh command (so they are queued within milliseconds). */
  async submitMany(user: string, count: number, limits: object, opts: string[], seconds: number, mode = "sleep") {
    const jobDirs = Array.from({ length: count }, () => join(this.jobsDir, `${user}-${++this.count}`));
    const commands = jobDirs.map((jobDir) => {
      const args = ["submit", "--job-dir", jobDir, "--mem", "0.2", "--limits", JSON.stringify(limits), ...opts];
      const job = ["--", "python3", this.jobPy, String(seconds), mode];
      return `mkdir ${quoteArgv([jobDir])} && python3 ${quoteArgv([this.script, "--queue-dir", this.queueDir, ...args, ...job])}`;
    });
    const reply = await this.ssh(user, commands.join(" && "));
    if (reply.code !== 0) throw new Error(`submit as ${user} failed (${reply.code}): ${reply.stderr}`);
    const ids = reply.stdout.trim().split("\n").map((line) => String(JSON.parse(line)["id"]));
    return ids.map((id, i) => ({ id, jobDir: jobDirs[i]! }));
  }

  async poll(user: string, ids: string[]): Promise<Job[]> {
    const reply = await this.queue(user, ["poll", ...ids]);
    if (reply.code !== 0) throw new Error(`poll failed: ${reply.stderr}`);
    return reply.json["jobs"] as Job[];
  }

  /** Polls (as `user`) until every id is in one of `states`; returns their last poll. */
  async waitStates(user: string, ids: string[], states: string[], ms = 20_000): Promise<Job[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const jobs = await this.poll(user, ids);
      if (jobs.every((j) => states.includes(String(j["state"])))) return jobs;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${states.join("/")}: ${JSON.stringify(jobs)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** What job.py recorded in its job dir (read as root). */
  times(jobDir: string): Times {
    return JSON.parse(readFileSync(join(jobDir, "times.json"), "utf8"));
  }

  /** Cancels what either user left active, then removes the whole dir. */
  async dispose(): Promise<void> {
    for (const user of [this.tb.user, this.tb.user2]) {
      const active = (await this.queue(user, ["active"])).json["ids"];
      for (const id of Array.isArray(active) ? active : []) await this.queue(user, ["cancel", String(id)]);
    }
    rmSync(this.base, { recursive: true, force: true });
  }
}
