// Progress in plain mode (stderr not a terminal): one timestamped line per step change, the job's output
// passed through, --quiet silent, a failed job left to the command's single error line. The terminal mode is
// driven through a real pseudo-terminal in test/integration/cli/progress.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Verbosity } from "../../../src/cli/output.js";
import { Progress } from "../../../src/cli/progress.js";

function plain(verbosity: Verbosity = "normal") {
  let out = "";
  const progress = new Progress({ verbosity, tty: false, write: (text) => (out += text), now: () => new Date("2026-11-30T12:34:56Z") });
  return { progress, text: () => out.replace(/\x1b\[[0-9;]*m/g, "") };
}

describe("progress, plain", () => {
  it("prints one timestamped line per step change and passes job output through", () => {
    const { progress, text } = plain();
    progress.step({ step: "connect", phase: "start", text: "connecting to alice@login" });
    progress.step({ step: "connect", phase: "end", text: "connected to alice@login" });
    progress.step({ step: "queue_wait", phase: "start", text: "job J: submitted as Slurm job 7, waiting to start" });
    progress.step({ step: "queue_wait", phase: "update", text: "job J: PENDING (Priority), position 2 in the queue" });
    progress.step({ step: "queue_wait", phase: "update", text: "job J: PENDING (Priority), position 2 in the queue" });
    progress.step({ step: "run", phase: "update", text: "job J: running" });
    progress.output("hello\n");
    progress.step({ step: "run", phase: "end", text: "job J ended COMPLETED" });
    const lines = text().trimEnd().split("\n");
    assert.deepEqual(
      lines.map((l) => l.replace(/\(\d+\.\d s\)$/, "(T)")),
      [
        "12:34:56 connecting to alice@login",
        "12:34:56 connected to alice@login (T)",
        "12:34:56 job J: submitted as Slurm job 7, waiting to start",
        "12:34:56 job J: PENDING (Priority), position 2 in the queue",
        "12:34:56 job J: running",
        "hello",
        "12:34:56 job J ended COMPLETED (T)",
      ],
    );
  });

  it("says nothing of a failed job's end (the command prints it once, as an error)", () => {
    const { progress, text } = plain();
    progress.step({ step: "run", phase: "start", text: "job J: running" });
    progress.step({ step: "run", phase: "end", text: "job J ended FAILED", failed: true });
    assert.equal(text(), "12:34:56 job J: running\n");
  });

  it("is silent with --quiet except for the job's own output", () => {
    const { progress, text } = plain("quiet");
    progress.step({ step: "connect", phase: "start", text: "connecting" });
    progress.note("connection lost; reconnecting");
    progress.output("job says hi\n");
    progress.step({ step: "run", phase: "end", text: "job J ended COMPLETED" });
    assert.equal(text(), "job says hi\n");
  });
});
