// A stand-in Transport for unit tests of what slurmray does with a target's reply: every exec hands its
// stdout sink to `reply`, which writes what a hostile or broken target might, and exits 0. Only exec is
// there; the real transports run in test/integration/transport.
import type { Writable } from "node:stream";
import type { ExecOptions, Transport } from "../../src/transport/types.js";

export function replayingTransport(reply: (stdout: Writable) => void): Transport {
  const exec = async (_argv: readonly string[], options: ExecOptions = {}) => {
    reply(options.stdout as Writable);
    return { code: 0, stdout: "", stderr: "" };
  };
  return { exec } as unknown as Transport;
}
