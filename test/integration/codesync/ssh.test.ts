// Code sync over OpenSSH against the test bed's real sshd.
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { after, type TestContext } from "node:test";
import type { OpenSshTransport } from "../../../src/transport/openssh.js";
import { bedTransport, requireTestbed } from "../../helpers/testbed.js";
import { codesyncSuite, REMOVE_STORE } from "./suite.js";

let opened: { transport: OpenSshTransport; remoteTmp: string } | undefined;

async function open(t: TestContext) {
  const bed = requireTestbed(t);
  if (!bed) return undefined;
  if (!opened) {
    const transport = bedTransport(bed, "/tmp/srcs-");
    await transport.connect();
    const made = await transport.exec(["mktemp", "-d", "/tmp/sr-cs-remote-XXXXXX"]);
    opened = { transport, remoteTmp: made.stdout.trim() };
  }
  return opened;
}

after(async () => {
  if (!opened) return;
  await opened.transport.exec(["sh", "-c", REMOVE_STORE, "sh", opened.remoteTmp]);
  await opened.transport.shutdown();
  rmSync(dirname(opened.transport.controlSocket), { recursive: true, force: true });
});

codesyncSuite("OpenSSH (test bed)", open);
