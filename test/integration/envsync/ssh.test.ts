// The env engine through the real test-bed sshd (OpenSSH, multiplexed), as user srtest.
import { mkdtempSync } from "node:fs";
import { OpenSshTransport } from "../../../src/transport/openssh.js";
import { envSyncSuite } from "./suite.js";

envSyncSuite(
  "openssh",
  async (bed) => new OpenSshTransport({ host: "srtb", sshConfigFile: bed!.sshConfig, controlDir: mkdtempSync("/tmp/sre-") }),
  true,
);
