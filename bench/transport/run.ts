// Benchmark: N small remote commands over one multiplexed OpenSshTransport versus a fresh `ssh` per
// command, both measured in this run against the test bed's sshd. Run: npx tsx bench/transport/run.ts [N]
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { sshArgs, testbed } from "../../test/helpers/testbed.js";
import { bedOptions, dispose, makeSsh } from "../../test/integration/transport/fixtures.js";

const N = Number(process.argv[2] ?? 30);

function freshSsh(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", args, { stdio: "ignore" });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ssh exited ${code}`))));
  });
}

async function timed(what: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await what();
  return performance.now() - start;
}

async function main(): Promise<void> {
  const bed = testbed();
  if (!bed) throw new Error("test bed not running: bash scripts/test-cluster.sh up");
  const transport = makeSsh("openssh", bedOptions(bed));
  try {
    const connect = await timed(() => transport.connect());
    const multiplexed = await timed(async () => {
      for (let i = 0; i < N; i++) await transport.exec(["true"]);
    });
    const fresh = await timed(async () => {
      for (let i = 0; i < N; i++) await freshSsh([...sshArgs(bed), "true"]);
    });
    const ms = (x: number) => `${x.toFixed(0)} ms (${(x / N).toFixed(1)} ms/command)`;
    console.log(`${N} × \`true\` on ${transport.description}`);
    console.log(`  fresh ssh per command:       ${ms(fresh)}`);
    console.log(`  multiplexed (ControlMaster): ${ms(multiplexed)}  + ${connect.toFixed(0)} ms to start the master`);
    console.log(`  ratio: ${(fresh / multiplexed).toFixed(1)}× (${(fresh / (multiplexed + connect)).toFixed(1)}× counting the master's start)`);
  } finally {
    await dispose(transport);
  }
}

await main();
