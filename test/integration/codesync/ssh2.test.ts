// Code sync over the ssh2 transport against the test bed's real sshd (its channel opens a round trip
// later than a process starts: an upload stream that began flowing early would lose its first bytes).
import { after, type TestContext } from "node:test";
import { Ssh2Transport } from "../../../src/transport/ssh2.js";
import { requireTestbed } from "../../helpers/testbed.js";
import { codesyncSuite, REMOVE_STORE } from "./suite.js";

let opened: { transport: Ssh2Transport; remoteTmp: string } | undefined;

async function open(t: TestContext) {
  const bed = requireTestbed(t);
  if (!bed) return undefined;
  if (!opened) {
    const transport = new Ssh2Transport({ host: bed.host, port: bed.port, user: bed.user, identityFile: bed.key, knownHostsFile: bed.knownHosts });
    await transport.connect();
    const made = await transport.exec(["mktemp", "-d", "/tmp/sr-cs2-remote-XXXXXX"]);
    opened = { transport, remoteTmp: made.stdout.trim() };
  }
  return opened;
}

after(async () => {
  if (!opened) return;
  await opened.transport.exec(["sh", "-c", REMOVE_STORE, "sh", opened.remoteTmp]);
  await opened.transport.close();
});

codesyncSuite("ssh2 (test bed)", open);
