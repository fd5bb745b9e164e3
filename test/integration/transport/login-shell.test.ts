// The shared transport suite (argv round-trips, script, stream, files, forward) as the bed's tcsh user: sshd
// hands every command to tcsh, and both SSH transports must still run it under /bin/sh.
import { bedOptions, makeSsh, SSH_KINDS } from "./fixtures.js";
import { transportSuite } from "./suite.js";

for (const kind of SSH_KINDS) {
  transportSuite(`${kind} (tcsh login shell)`, async (bed) => makeSsh(kind, { ...bedOptions(bed!), user: bed!.tcshUser, identityFile: bed!.tcshKey }), true);
}
