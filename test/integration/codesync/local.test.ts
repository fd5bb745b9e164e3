// Code sync over the local transport: the remote code dir is a local temp dir.
import { rmSync } from "node:fs";
import { after } from "node:test";
import { LocalTransport } from "../../../src/transport/local.js";
import { makeTree } from "../../unit/codesync/tree.js";
import { codesyncSuite } from "./suite.js";

const remoteTmp = makeTree({}, "sr-cs-remote-");
const transport = new LocalTransport();
after(() => rmSync(remoteTmp, { recursive: true, force: true }));

codesyncSuite("the local transport", async () => ({ transport, remoteTmp }));
