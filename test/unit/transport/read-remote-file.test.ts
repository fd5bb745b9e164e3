// What a target replies to readRemoteFile is its word, not a fact: a size line announcing a terabyte, one
// that is not a number, or a first line that never ends must give the bytes that came or a clear error,
// never a crash. A stand-in transport replays each reply (the real command runs in the transport suites).
import assert from "node:assert/strict";
import { test } from "node:test";
import { readRemoteFile } from "../../../src/transport/files.js";
import { RemoteCommandError } from "../../../src/util/errors.js";
import { replayingTransport } from "../../helpers/replaying-transport.js";

/** Replays `reply` in chunks of 7,000 bytes, as a pipe may deliver it. */
function replying(reply: Buffer) {
  return replayingTransport((stdout) => {
    for (let i = 0; i < reply.length; i += 7000) stdout.write(reply.subarray(i, i + 7000));
  });
}

test("a reply announcing a terabyte gives the bytes that came, without allocating the terabyte", async () => {
  const bytes = await readRemoteFile(replying(Buffer.from("1099511627776\nthe content")), "/x");
  assert.equal(bytes?.toString(), "the content");
});

test("a size line that is not a number: the bytes after it, as they came", async () => {
  for (const line of ["-3", "1e12", "99999999999999999999", "ten"]) {
    const bytes = await readRemoteFile(replying(Buffer.from(`${line}\nabc`)), "/x");
    assert.equal(bytes?.toString(), "abc", line);
  }
});

test("a first line that never ends is refused with the reading's error, its bytes not kept", async () => {
  await assert.rejects(readRemoteFile(replying(Buffer.alloc(1_000_000, "7")), "/x"), RemoteCommandError);
});

test("an honest reply: the file's bytes, split across writes", async () => {
  const content = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
  const bytes = await readRemoteFile(replying(Buffer.concat([Buffer.from(`${content.length}\n`), content])), "/x");
  assert.ok(bytes?.equals(content));
});
