// A userspace shaped link for the benchmark (this kernel has no netem): a TCP forward on loopback that
// delays every chunk by a fixed one-way latency and paces each direction to a rate, like a slow Wi-Fi
// link to a cluster. run.ts starts it as its own process (the benchmark's synchronous work must not stall
// the pacing), in front of the test bed's sshd, and ends it when done:
//   node --import tsx bench/codesync/shaper.ts TARGET_PORT RATE_BPS DELAY_MS   prints its port, then serves
import { createServer, type Server, type Socket, connect } from "node:net";

export interface Shape {
  /** Bits per second, each direction. */
  rateBps: number;
  /** One-way delay, milliseconds. */
  delayMs: number;
}

/** Bytes queued in one direction before its source is paused (bounds memory; the pacing sets the pace). */
const HIGH_WATER = 1 << 20;

/**
 * Paces data from `from` into `to`: each chunk leaves when the link has sent those before it, plus the
 * delay. One FIFO drained by one timer: separate timers per chunk could fire out of order.
 */
function pipeShaped(from: Socket, to: Socket, shape: Shape): void {
  const queue: { at: number; chunk: Buffer | null }[] = []; // null: the end of the stream
  let linkFreeAt = 0;
  let queued = 0;
  let scheduled = false;
  const schedule = (now: number) => {
    scheduled = true;
    setTimeout(pump, queue[0]!.at - now);
  };
  const pump = () => {
    scheduled = false;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now) {
      const { chunk } = queue.shift()!;
      if (chunk === null) to.end();
      else if (!to.destroyed) to.write(chunk);
      queued -= chunk?.length ?? 0;
    }
    if (queued <= HIGH_WATER && from.isPaused()) from.resume();
    if (queue.length) schedule(now);
  };
  const push = (chunk: Buffer | null) => {
    const now = performance.now();
    linkFreeAt = Math.max(now, linkFreeAt) + ((chunk?.length ?? 0) * 8 * 1000) / shape.rateBps;
    queue.push({ at: linkFreeAt + shape.delayMs, chunk });
    queued += chunk?.length ?? 0;
    if (queued > HIGH_WATER) from.pause();
    if (!scheduled) schedule(now);
  };
  from.on("data", (chunk: Buffer) => push(chunk));
  from.on("end", () => push(null)); // the end travels behind the data, as on a real link
  from.on("error", () => to.destroy());
}

/** Starts the forward on 127.0.0.1 (a free port) to 127.0.0.1:targetPort; resolves with its port. */
async function startShaper(targetPort: number, shape: Shape): Promise<number> {
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    pipeShaped(client, upstream, shape);
    pipeShaped(upstream, client, shape);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("the shaper has no port");
  return address.port;
}

const [targetPort, rateBps, delayMs] = process.argv.slice(2).map(Number);
if (!targetPort || !rateBps || delayMs === undefined || Number.isNaN(delayMs)) {
  console.error("usage: shaper.ts TARGET_PORT RATE_BPS DELAY_MS");
  process.exit(2);
}
console.log(await startShaper(targetPort, { rateBps, delayMs }));
