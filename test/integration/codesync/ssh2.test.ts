// Code sync over the ssh2 transport against the test bed's real sshd (its channel opens a round trip
// later than a process starts: an upload stream that began flowing early would lose its first bytes).
import { Ssh2Transport } from "../../../src/transport/ssh2.js";
import { bedOpener, codesyncSuite } from "./suite.js";

const open = bedOpener(
  (bed) => new Ssh2Transport({ host: bed.host, port: bed.port, user: bed.user, identityFile: bed.key, knownHostsFile: bed.knownHosts }),
  (transport) => transport.close(),
);

codesyncSuite("ssh2 (test bed)", open);
