// The watcher's wire format, fed as the pipe may deliver it: byte by byte, or many frames in one chunk,
// after a login banner.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Frame, FrameReader } from "../../../src/backends/watch/frames.js";

function frame(type: string, id: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${type} ${id} ${payload.length}\n`), payload]);
}

function feed(chunks: Buffer[]): Promise<Frame[]> {
  const frames: Frame[] = [];
  const reader = new FrameReader((f) => frames.push({ ...f, payload: Buffer.from(f.payload) }));
  return new Promise((resolve, reject) => {
    reader.on("error", reject);
    reader.on("finish", () => resolve(frames));
    for (const chunk of chunks) reader.write(chunk);
    reader.end();
  });
}

// A payload that looks like frames, newlines and NULs included, must come out as one payload.
const tricky = Buffer.from("end job1 0\nresult job1 5\nFORGE\r\n\0\xff", "latin1");
const stream = Buffer.concat([Buffer.from("Welcome to the login node\n\n"), frame("ready", "-", Buffer.from("1")), frame("log", "job1", tricky), frame("log", "job1", Buffer.alloc(0)), frame("end", "job1", Buffer.alloc(0))]);

test("frames come out whole whether the bytes arrive one by one or all at once", async () => {
  const whole = await feed([stream]);
  const byByte = await feed([...stream].map((b) => Buffer.from([b])));
  for (const frames of [whole, byByte]) {
    assert.deepEqual(
      frames.map((f) => [f.type, f.id, f.payload.toString("latin1")]),
      [
        ["ready", "-", "1"],
        ["log", "job1", tricky.toString("latin1")],
        ["log", "job1", ""],
        ["end", "job1", ""],
      ],
    );
  }
});

test("after the first frame, anything that is not a frame header is an error, not data", async () => {
  const ready = frame("ready", "-", Buffer.from("1"));
  await assert.rejects(feed([ready, Buffer.from("Welcome to the login node\n")]), /malformed watcher output/);
  await assert.rejects(feed([ready, Buffer.from("x".repeat(300))]), /malformed watcher output/);
  await assert.rejects(feed([ready, Buffer.from("log job1 99999999999\n")]), /malformed watcher output/);
});

test("a line before the first frame that never ends is refused, not kept growing", async () => {
  const endless = Array.from({ length: 40 }, () => Buffer.alloc(4096, "x"));
  await assert.rejects(feed([Buffer.from("banner\n"), ...endless]), /malformed watcher output: a line of over 65536 bytes/);
  const long = Buffer.concat([Buffer.alloc(60_000, "b"), Buffer.from("\n"), frame("ready", "-", Buffer.from("1"))]);
  assert.deepEqual((await feed([long])).map((f) => f.type), ["ready"], "a long banner line under the bound is skipped");
});
