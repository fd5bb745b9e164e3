// Whether an OpenSSH master listens on a control socket, without starting an `ssh -O check` process (~25 ms
// each warm run). A master greets every client that connects with MUX_MSG_HELLO (OpenSSH's PROTOCOL.mux):
// a packet of length 8 holding the message type 0x00000001 and the protocol version.
import { connect } from "node:net";

export type MasterAnswer = "yes" | "no" | "unsure";

const HELLO = Buffer.from([0, 0, 0, 8, 0, 0, 0, 1]);
const WAIT_MS = 1000;

/** "yes": a master greeted us; "no": nothing listens there; "unsure": anything else (ask `ssh -O check`). */
export function masterGreets(socketPath: string): Promise<MasterAnswer> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const socket = connect(socketPath);
    const done = (answer: MasterAnswer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done("unsure"), WAIT_MS);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= HELLO.length) done(received.subarray(0, HELLO.length).equals(HELLO) ? "yes" : "unsure");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => done(error.code === "ENOENT" || error.code === "ECONNREFUSED" ? "no" : "unsure"));
    socket.on("close", () => done("unsure"));
  });
}
