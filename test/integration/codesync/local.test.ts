// Code sync over the local transport: the remote code dir is a local temp dir.
import { after } from "node:test";
import { LocalTransport } from "../../../src/transport/local.js";
import { makeTree } from "../../unit/codesync/tree.js";
import { codesyncSuite, REMOVE_STORE } from "./suite.js";

const remoteTmp = makeTree({}, "sr-cs-remote-");
const transport = new LocalTransport();
after(() => transport.exec(["sh", "-c", REMOVE_STORE, "sh", remoteTmp]));

codesyncSuite("the local transport", async () => ({ transport, remoteTmp }));
