// The resume logic of the Slurm log follow: where the next watch starts after a cut, and that a line is
// handed out once. A scripted fake transport plays slurm_watch.py's output, one script per watch command.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { followLog } from "../../../src/backends/slurm/watch.js";
import type { StreamHandle, Transport } from "../../../src/transport/types.js";
import { ConnectionError, RemoteCommandError } from "../../../src/util/errors.js";
import { slurmJob } from "./job.js";

/** One watch command: the lines it prints, then a lost connection ("cut") or a normal end with a code. */
type Script = { lines: string[]; end: "cut" | number };

const FINAL = `@@slurmray:final:${JSON.stringify({ runner: null, slurm: null, sacct_error: null })}@@`;

/** A transport whose n-th stream plays scripts[n]; records each watch's starting offset and its connects. */
function scripted(scripts: Script[]) {
  const starts: number[] = [];
  let connects = 0;
  const transport = {
    connect: async () => {
      connects++;
    },
    stream(argv: readonly string[]): StreamHandle {
      starts.push(Number(argv[4]));
      const script = scripts[starts.length - 1];
      if (!script) throw new Error(`unexpected watch #${starts.length}`);
      async function* lines() {
        yield* script!.lines;
        if (script!.end === "cut") throw new ConnectionError("connection lost");
      }
      const code = script.end === "cut" ? 255 : script.end;
      return { lines: lines(), done: Promise.resolve({ code, stdout: "", stderr: "boom" }), kill: () => {} };
    },
  } as unknown as Transport;
  return { transport, starts, connects: () => connects };
}

async function follow(transport: Transport, fromOffset = 0) {
  const lines: string[] = [];
  const offsets: number[] = [];
  for await (const batch of followLog(transport, slurmJob({ schedulerId: "42" }), { fromOffset, reconnect: { baseDelayMs: 1 } })) {
    lines.push(...batch.lines);
    offsets.push(batch.offset);
  }
  return { lines, offsets };
}

describe("followLog resume", () => {
  test("a cut after lines not yet confirmed by an offset resumes at the last offset, each line once", async () => {
    const { transport, starts, connects } = scripted([
      { lines: ["|a", "|b", "@@slurmray:offset:4@@", "|c"], end: "cut" },
      { lines: ["|c", "|d", "@@slurmray:offset:8@@", FINAL], end: 0 },
    ]);
    const { lines, offsets } = await follow(transport);
    assert.deepEqual(starts, [0, 4]);
    assert.deepEqual(lines, ["a", "b", "c", "d"]);
    assert.deepEqual(offsets, [4, 8]);
    assert.equal(connects(), 1);
  });

  test("a cut before the first offset resumes where the watch started, not at 0", async () => {
    const { transport, starts } = scripted([
      { lines: ["|x"], end: "cut" },
      { lines: [], end: "cut" },
      { lines: ["|x", "@@slurmray:offset:12@@", FINAL], end: 0 },
    ]);
    const { lines } = await follow(transport, 10);
    assert.deepEqual(starts, [10, 10, 10]);
    assert.deepEqual(lines, ["x"]);
  });

  test("a queue update does not move the resume offset", async () => {
    const { transport, starts } = scripted([
      { lines: ["|a", "@@slurmray:offset:2@@", '@@slurmray:queue:{"state":"RUNNING","reason":"None","position":null}@@'], end: "cut" },
      { lines: [FINAL], end: 0 },
    ]);
    await follow(transport);
    assert.deepEqual(starts, [0, 2]);
  });

  test("a watch that fails without losing the connection is not retried", async () => {
    const { transport, starts } = scripted([{ lines: ["|a", "@@slurmray:offset:2@@"], end: 1 }]);
    await assert.rejects(follow(transport), RemoteCommandError);
    assert.deepEqual(starts, [0]);
  });
});
