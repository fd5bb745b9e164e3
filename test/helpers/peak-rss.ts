// Runs the built CLI as a user would, its stdout and stderr going to files, and measures its peak RSS (VmHWM,
// read from /proc at its exit by a preloaded module). Linux only: `canMeasure` says whether it applies.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CLI } from "./cli.js";
import { scratchDir } from "./scratch.js";

export const canMeasure = existsSync("/proc/self/status");

const HWM_MODULE = `
import { readFileSync, writeFileSync } from "node:fs";
process.on("exit", () => {
  const peak = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))[1];
  writeFileSync(process.env.HWM_FILE, peak);
});
`;

export interface PeakRun {
  peakMiB: number;
  stdoutBytes: number;
  stderrBytes: number;
}

/** Where the runs' printed files go: outside the project, so no run syncs or hashes an earlier one's output. */
export class PeakRecorder {
  readonly dir = scratchDir("srmem-");

  constructor() {
    writeFileSync(join(this.dir, "hwm.mjs"), HWM_MODULE);
  }

  /** Runs `slurmray ARGS` in `cwd`; it must exit 0. Its stdout stays in `name`.out, for `bytes`. */
  run(cwd: string, name: string, args: string[], timeoutMs = 300_000): PeakRun {
    const files = { out: join(this.dir, `${name}.out`), err: join(this.dir, `${name}.err`), hwm: join(this.dir, `${name}.hwm`) };
    const script = `exec "$0" --import "$HWM_URL" "$@" > "$OUT_FILE" 2> "$ERR_FILE"`;
    const run = spawnSync("sh", ["-c", script, process.execPath, CLI, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1", HWM_FILE: files.hwm, HWM_URL: pathToFileURL(join(this.dir, "hwm.mjs")).href, OUT_FILE: files.out, ERR_FILE: files.err },
      timeout: timeoutMs,
    });
    assert.equal(run.status, 0, existsSync(files.err) ? readFileSync(files.err, "utf8").slice(-2000) : String(run.error));
    const sizes = { stdoutBytes: statSync(files.out).size, stderrBytes: statSync(files.err).size };
    rmSync(files.err);
    return { peakMiB: Math.round(Number(readFileSync(files.hwm, "utf8")) / 1024), ...sizes };
  }

  /** `length` bytes of what run `name` printed, from `position` (negative: from its end). */
  bytes(name: string, position: number, length: number): string {
    const path = join(this.dir, `${name}.out`);
    const fd = openSync(path, "r");
    try {
      const buffer = Buffer.alloc(length);
      const read = readSync(fd, buffer, 0, length, position < 0 ? Math.max(0, statSync(path).size + position) : position);
      return buffer.subarray(0, read).toString("utf8");
    } finally {
      closeSync(fd);
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A job returning `mb` << 10 strings of 1023 "r"s: a list whose JSON text is about `mb` MB. */
export const BIG_RESULT_PY = `
def big(mb):
    return ["r" * 1023] * (mb << 10)
`;

/** What `run` and `result` print for big(mb): "[", one indented item a line, "]". */
export function bigResultPrinted(mb: number): { size: number; head: string; tail: string } {
  const item = `"${"r".repeat(1023)}"`;
  return { size: 2 + (mb << 10) * (item.length + 4) - 1 + 2, head: `[\n  ${item.slice(0, 8)}`, tail: `${item.slice(-9)}\n]\n` };
}
