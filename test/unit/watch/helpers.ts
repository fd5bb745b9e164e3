// A job dir on this machine, a scheduler that never ends a job (only the runner's status.json does), and
// transports that count, refuse or cut the watcher's command: the real watcher.py runs through them.
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JobStatus } from "../../../src/backends/types.js";
import type { RunnerStatus, WatchScheduler } from "../../../src/backends/watch/types.js";
import type { JobRecord } from "../../../src/model/job.js";
import { LocalTransport } from "../../../src/transport/local.js";
import type { ExecOptions, ExecResult, Transport } from "../../../src/transport/types.js";
import { ConnectionError } from "../../../src/util/errors.js";
import { scratchDir } from "../../helpers/scratch.js";
import { slurmJob } from "../slurm/job.js";

export function tempJob(root: string, name: string): JobRecord & { write(bytes: string | Buffer): void; end(state?: string, result?: unknown): void } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "job.log"), "");
  const atomic = (file: string, text: string) => {
    writeFileSync(join(dir, `${file}.tmp`), text);
    renameSync(join(dir, `${file}.tmp`), join(dir, file));
  };
  atomic("status.json", JSON.stringify({ state: "RUNNING", pid: 1 }));
  return {
    ...slurmJob({ id: name, schedulerId: "1", remoteDir: dir, python: "python3" }),
    write: (bytes) => appendFileSync(join(dir, "job.log"), bytes),
    end(state = "COMPLETED", result: unknown = { value: 42 }) {
      if (result !== null) atomic("result.json", JSON.stringify(result));
      atomic("status.json", JSON.stringify({ state, exit_code: state === "COMPLETED" ? 0 : 1, ended_at: new Date().toISOString() }));
    },
  };
}

export function tempRoot(): string {
  return scratchDir("srwatch-");
}

/** Ends a job only from its runner's status.json: what the watcher itself notices. */
export const runnerOnly: WatchScheduler = {
  pollEveryMs: 60_000,
  pollCommand: () => "true",
  parsePoll: async () => new Map(),
  async finalStatus(_job: JobRecord, runner: RunnerStatus | null): Promise<JobStatus> {
    return { state: runner?.state === "COMPLETED" ? "COMPLETED" : "FAILED", reason: null, exitCode: runner?.exit_code ?? null, startedAt: null, endedAt: null, nodes: null };
  },
};

/**
 * A LocalTransport whose exec() can be made to fail as a lost connection or a refused channel would:
 * `cutAfterBytes` kills the first command once it has sent that many bytes; `refuse` answers the first
 * commands as OpenSSH and ssh2 do when sshd refuses a session (MaxSessions).
 */
export class FaultyTransport extends LocalTransport {
  execs = 0;
  constructor(private readonly faults: { cutAfterBytes?: number; refuse?: number } = {}) {
    super();
  }

  override async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.execs++;
    if (this.execs <= (this.faults.refuse ?? 0)) {
      // What the bed's sshd does past MaxSessions: an OpenSSH mux client exits 0 with this message; ssh2
      // fails to open the channel.
      if (this.execs % 2 === 1) return { code: 0, stdout: "", stderr: "mux_client_request_session: session request failed: Session open refused by peer\n" };
      throw new ConnectionError("Could not connect to u@h:22: (SSH) Channel open failure: open failed");
    }
    const cut = this.faults.cutAfterBytes;
    if (cut === undefined || this.execs > 1) return super.exec(argv, options);
    const controller = new AbortController();
    let seen = 0;
    const out = options.stdout!;
    const write = out.write.bind(out);
    out.write = ((chunk: Buffer, ...rest: never[]) => {
      seen += chunk.length;
      if (seen >= cut) controller.abort();
      return write(chunk, ...rest);
    }) as typeof out.write;
    try {
      return await super.exec(argv, { ...options, signal: controller.signal });
    } catch (error) {
      throw controller.signal.aborted ? new ConnectionError("connection lost (test)") : error;
    }
  }
}

export type { Transport };
