// The outputs' send stream is the target's word: a frame announcing a name longer than any path is refused
// at once, not waited for while every later byte is kept. A stand-in transport replays the stream (the real
// codestore.py send runs in test/integration/codesync/outputs.test.ts).
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import { fetchOutputs } from "../../../src/codesync/outputs.js";
import { RemoteCommandError } from "../../../src/util/errors.js";
import { replayingTransport } from "../../helpers/replaying-transport.js";
import { scratchDir } from "../../helpers/scratch.js";

const dir = scratchDir("sr-outs-");
after(() => rmSync(dir, { recursive: true, force: true }));

const replying = (stream: Buffer) => replayingTransport((stdout) => stdout.end(gzipSync(stream)));

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

test("a frame announcing a name of 2^40 bytes is refused as malformed, and nothing is written", async () => {
  const stream = Buffer.concat([Buffer.from("F"), u64(2n ** 40n), Buffer.alloc(100_000, "a")]);
  await assert.rejects(fetchOutputs(replying(stream), "python3", "/remote/outputs", dir), (error: Error) => {
    assert.ok(error instanceof RemoteCommandError);
    assert.match(error.message, /malformed stream: a name of 1099511627776 bytes/);
    return true;
  });
  assert.deepEqual(readdirSync(dir), []);
});

test("a well-formed stream: the file comes back", async () => {
  const name = Buffer.from("a.txt");
  const content = Buffer.from("hello");
  const stream = Buffer.concat([Buffer.from("F"), u64(BigInt(name.length)), name, u64(BigInt(content.length)), u64(1_700_000_000_000_000_000n), content, Buffer.from("E")]);
  const result = await fetchOutputs(replying(stream), "python3", "/remote/outputs", dir);
  assert.deepEqual([result.files, result.bytes], [1, 5]);
});
