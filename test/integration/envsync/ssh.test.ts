// The env engine through the real test-bed sshd (OpenSSH, multiplexed), as user srtest.
import { bedTransport } from "../../helpers/testbed.js";
import { envSyncSuite } from "./suite.js";

envSyncSuite(
  "openssh",
  async (bed) => bedTransport(bed!, "/tmp/sre-"),
  true,
);
