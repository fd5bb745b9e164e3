// Run as a child process by memory.test.ts: watches one finished job dir through the real watcher and
// prints what it received and the process's peak RSS (VmHWM), so the parent can bound the memory.
import { readFileSync } from "node:fs";
import { JobWatcher } from "../../../src/backends/watch/watcher.js";
import { resultToPrint } from "../../../src/model/outcome.js";
import { LocalTransport } from "../../../src/transport/local.js";
import { JsonText } from "../../../src/util/json-text.js";
import { slurmJob } from "../slurm/job.js";
import { runnerOnly } from "./helpers.js";

const dir = process.argv[2]!;
let logChars = 0;
const watcher = new JobWatcher(new LocalTransport(), runnerOnly);
const result = await watcher.watch(slurmJob({ id: "memory", schedulerId: "1", remoteDir: dir, python: "python3" }), {
  onLog: (text) => (logChars += text.length),
});
// The result is a string: its JSON text is the characters between two quotes (the test writes no escapes).
const text = resultToPrint(result.outcome.result);
const resultChars = text instanceof JsonText ? text.bytes.length - 2 : 0;
const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
process.stdout.write(JSON.stringify({ logChars, logOffset: result.logOffset, resultChars, peakKiB: Number(peak) }));
