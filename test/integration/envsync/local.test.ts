// The env engine over the local transport (no test bed needed).
import { LocalTransport } from "../../../src/transport/local.js";
import { envSyncSuite } from "./suite.js";

envSyncSuite("local", async () => new LocalTransport(), false);
