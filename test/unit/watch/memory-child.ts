// Run as a child process by memory.test.ts: watches one finished job dir through the real watcher and
// prints what it received and the process's peak RSS (VmHWM), so the parent can bound the memory.
import { readFileSync } from "node:fs";
import { JobWatcher } from "../../../src/backends/watch/watcher.js";
import { LocalTransport } from "../../../src/transport/local.js";
import { runnerOnly } from "./helpers.js";
import { slurmJob } from "../slurm/job.js";

const dir = process.argv[2]!;
let logChars = 0;
const watcher = new JobWatcher(new LocalTransport(), runnerOnly);
const result = await watcher.watch(slurmJob({ id: "memory", schedulerId: "1", remoteDir: dir, python: "python3" }), {
  onLog: (text) => (logChars += text.length),
});
const value = (result.outcome.result as { value: string } | null)?.value ?? "";
const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
process.stdout.write(JSON.stringify({ logChars, logOffset: result.logOffset, resultChars: value.length, peakKiB: Number(peak) }));
