import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { masterGreets } from "../../../src/transport/mux-hello.js";
import { scratchDir } from "../../helpers/scratch.js";

/** A unix socket server that writes `greeting` to each client (in two pieces, as a stream may deliver it). */
async function listening(path: string, greeting: Buffer | null): Promise<Server> {
  const server = createServer((client) => {
    if (greeting === null) return; // says nothing
    client.write(greeting.subarray(0, 5));
    setTimeout(() => client.write(greeting.subarray(5)), 20);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

test("a control socket: 'yes' only for OpenSSH's mux hello, 'no' when nothing listens, 'unsure' otherwise", async (t) => {
  const dir = scratchDir("/tmp/sr-mux-");
  const hello = Buffer.from("000000080000000100000004", "hex");
  const servers = [
    await listening(join(dir, "master"), hello),
    await listening(join(dir, "other"), Buffer.from("SSH-2.0-not-a-master\r\n")),
    await listening(join(dir, "silent"), null),
  ];
  t.after(() => {
    for (const server of servers) server.close();
  });
  assert.equal(await masterGreets(join(dir, "master")), "yes");
  assert.equal(await masterGreets(join(dir, "other")), "unsure");
  assert.equal(await masterGreets(join(dir, "missing")), "no");
  writeFileSync(join(dir, "plain-file"), "x");
  assert.notEqual(await masterGreets(join(dir, "plain-file")), "yes");
  const started = Date.now();
  assert.equal(await masterGreets(join(dir, "silent")), "unsure");
  assert.ok(Date.now() - started < 3000, "a silent listener is given up on within its wait");
});
