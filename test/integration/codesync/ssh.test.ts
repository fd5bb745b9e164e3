// Code sync over OpenSSH against the test bed's real sshd.
import { after } from "node:test";
import type { TestContext } from "node:test";
import { OpenSshTransport } from "../../../src/transport/openssh.js";
import { requireTestbed } from "../../helpers/testbed.js";
import { codesyncSuite } from "./suite.js";
import { mkdtempSync, rmSync } from "node:fs";

let opened: { transport: OpenSshTransport; remoteTmp: string; controlDir: string } | undefined;

async function open(t: TestContext) {
  const bed = requireTestbed(t);
  if (!bed) return undefined;
  if (!opened) {
    const controlDir = mkdtempSync("/tmp/srcs-");
    const transport = new OpenSshTransport({
      host: bed.host,
      port: bed.port,
      user: bed.user,
      identityFile: bed.key,
      knownHostsFile: bed.knownHosts,
      sshConfigFile: "/dev/null",
      controlDir,
    });
    await transport.connect();
    const made = await transport.exec(["mktemp", "-d", "/tmp/sr-cs-remote-XXXXXX"]);
    opened = { transport, remoteTmp: made.stdout.trim(), controlDir };
  }
  return opened;
}

after(async () => {
  if (!opened) return;
  await opened.transport.exec(["rm", "-rf", opened.remoteTmp]);
  await opened.transport.shutdown();
  rmSync(opened.controlDir, { recursive: true, force: true });
});

codesyncSuite("OpenSSH (test bed)", open);
