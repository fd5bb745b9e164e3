// --verbose: the transport reports each command once as it ends, with its exit code and duration; a script
// is named by its command line and size, never by its text.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type CommandEvent, observeCommands } from "../../../src/transport/base.js";
import { LocalTransport } from "../../../src/transport/local.js";

describe("the command observer", () => {
  after(() => observeCommands(undefined));

  it("sees every exec, script and stream once, with its exit code", async () => {
    const events: CommandEvent[] = [];
    observeCommands((event) => events.push(event));
    const transport = new LocalTransport();
    await transport.exec(["sh", "-c", "sleep 0.2; exit 3"]);
    await transport.script("echo secret-looking-text\necho two\n", ["arg"]);
    const stream = transport.stream(["echo", "streamed"]);
    for await (const _line of stream.lines);
    await stream.done;
    await transport.close();
    assert.equal(events.length, 3);
    assert.equal(events[0]!.code, 3);
    assert.ok(events[0]!.ms >= 150, `${events[0]!.ms} ms`);
    assert.match(events[0]!.command, /sleep 0\.2; exit 3/);
    assert.match(events[1]!.command, /^sh -s -- arg \(a 3-line script on stdin\)$/);
    assert.doesNotMatch(events[1]!.command, /secret/);
    assert.equal(events[1]!.code, 0);
    assert.match(events[2]!.command, /echo streamed/);
    assert.equal(transport.commandCount, 3);
  });
});
