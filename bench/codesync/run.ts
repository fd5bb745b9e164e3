// Benchmark: syncCode against `rsync -a --delete` over the same multiplexed ssh (the test bed's sshd),
// on a tree of 5,000 small files: first sync, nothing changed, one file changed. Medians of a few rounds.
// Run: npx tsx bench/codesync/run.ts   (needs `bash scripts/test-cluster.sh up`)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { syncCode } from "../../src/codesync/sync.js";
import { bedTransport, testbed } from "../../test/helpers/testbed.js";
import { makeTree } from "../../test/unit/codesync/tree.js";

const FILES = 5000;
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);

const bed = testbed();
if (!bed) {
  console.error("test bed not running: bash scripts/test-cluster.sh up");
  process.exit(2);
}

const files: Record<string, string> = {};
for (let i = 0; i < FILES; i++) files[`pkg${i % 50}/sub${i % 7}/m${i}.py`] = `# module ${i}\nVALUE = ${i}\n${"x = 1\n".repeat(i % 40)}`;
const root = makeTree(files, "sr-bench-");
const transport = bedTransport(bed, "/tmp/srb-");
await transport.connect();
const remoteTmp = (await transport.exec(["mktemp", "-d", "/tmp/sr-bench-XXXXXX"])).stdout.trim();

const sshForRsync = ["ssh", "-F", "/dev/null", "-S", transport.controlSocket, "-p", String(bed.port), "-l", bed.user].join(" ");
function rsync(dest: string): void {
  execFileSync("rsync", ["-a", "--delete", "-e", sshForRsync, `${root}/`, `${bed!.host}:${dest}/`]);
}

async function timed(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = { first: { ours: [] as number[], rsync: [] as number[] }, none: { ours: [] as number[], rsync: [] as number[] }, one: { ours: [] as number[], rsync: [] as number[] } };
let oneFileUploads = 0;

for (let round = 0; round < ROUNDS; round++) {
  const codeDir = `${remoteTmp}/code${round}`;
  const rsyncDir = `${remoteTmp}/rsync${round}`;
  const cacheDir = mkdtempSync(join(tmpdir(), "sr-bench-cache-"));
  const options = { root, codeDir, cacheDir, targetKey: "bench" };
  results.first.ours.push(await timed(() => syncCode(transport, options)));
  results.first.rsync.push(await timed(() => rsync(rsyncDir)));
  results.none.ours.push(await timed(() => syncCode(transport, options)));
  results.none.rsync.push(await timed(() => rsync(rsyncDir)));
  writeFileSync(join(root, "pkg3/sub3/m1003.py"), `VALUE = ${round}-${Date.now()}\n`);
  let uploaded = 0;
  results.one.ours.push(await timed(async () => (uploaded = (await syncCode(transport, options)).files_uploaded)));
  results.one.rsync.push(await timed(() => rsync(rsyncDir)));
  oneFileUploads = uploaded;
  rmSync(cacheDir, { recursive: true, force: true });
}

const goals = { first: 1.5, none: 0.5, one: 1.0 };
const label = { first: "first sync", none: "no change", one: "one file changed" };
console.log(`codesync vs rsync -a --delete, ${FILES} files, same ssh ControlMaster, median of ${ROUNDS}`);
console.log("scenario           slurmray     rsync    ratio   goal");
for (const key of ["first", "none", "one"] as const) {
  const ours = median(results[key].ours);
  const theirs = median(results[key].rsync);
  const ratio = ours / theirs;
  const ok = ratio <= goals[key] ? "ok" : "MISSED";
  console.log(`${label[key].padEnd(18)} ${ours.toFixed(0).padStart(6)} ms ${theirs.toFixed(0).padStart(6)} ms ${ratio.toFixed(2).padStart(6)}×  ≤${goals[key]}× ${ok}`);
}
console.log(`files uploaded for one change: ${oneFileUploads}`);

await transport.exec(["rm", "-rf", remoteTmp]);
await transport.shutdown();
rmSync(root, { recursive: true, force: true });
rmSync(dirname(transport.controlSocket), { recursive: true, force: true });
