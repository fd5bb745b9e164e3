// Benchmark: syncCode (objects into the content-addressed store, plus the job tree it builds) against
// `rsync -a --delete` over the same multiplexed ssh (the test bed's sshd), on a tree of small files
// (BENCH_FILES, default 5,000): first sync, nothing changed, one file changed; bytes on the wire next to
// rsync's "Total bytes sent"; and the time to build one job tree alone. Medians of a few rounds.
// Run: npx tsx bench/codesync/run.ts   (needs `bash scripts/test-cluster.sh up`)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { readFileSync } from "node:fs";
import { applyArgv } from "../../src/codesync/store.js";
import { syncCode } from "../../src/codesync/sync.js";
import { remoteFile } from "../../src/remote/index.js";
import { bedTransport, testbed } from "../../test/helpers/testbed.js";
import { makeTree } from "../../test/unit/codesync/tree.js";

const FILES = Number(process.env["BENCH_FILES"] ?? 5000);
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
let rsyncBytes = 0;
function rsync(dest: string): void {
  const out = execFileSync("rsync", ["-a", "--delete", "--stats", "-e", sshForRsync, `${root}/`, `${bed!.host}:${dest}/`], { encoding: "utf8" });
  rsyncBytes = Number(/Total bytes sent: ([\d,]+)/.exec(out)?.[1]?.replaceAll(",", "") ?? 0);
}

/** Our bytes on the wire: the gzip stream plus the apply command's argv (codestore.py travels in it). */
const ARGV_BYTES = applyArgv("python3", "/tmp/base", "0".repeat(64)).join(" ").length;
let ourBytes = 0;
async function ours(options: Parameters<typeof syncCode>[1]): Promise<void> {
  const r = await syncCode(transport, options);
  ourBytes = r.bytes_uploaded + (r.remote_commands > 1 ? ARGV_BYTES : 0);
}

/** Building one job tree of the manifest in base from its objects, alone, timed on the target. */
async function treeBuildMs(base: string, id: string): Promise<number> {
  const code = `import sys, time, os
g = {"__name__": "codestore"}
exec(sys.stdin.read(), g)
trees = os.path.join(sys.argv[1], "trees", str(os.getuid()))
with open(os.path.join(trees, sys.argv[2] + ".manifest"), "rb") as f:
    records, _ = g["parse_records"](f.read())
start = time.time()
g["build_tree"](os.path.join(sys.argv[1], "objects", str(os.getuid())), trees, "b" * 64, records)
print((time.time() - start) * 1000)
g["remove_tree"](os.path.join(trees, "b" * 64))`;
  const r = await transport.exec(["python3", "-c", code, base, id], { stdin: readFileSync(remoteFile("codestore.py")) });
  return Number(r.stdout.trim());
}

async function timed(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const series = () => ({ ours: [] as number[], rsync: [] as number[], oursBytes: [] as number[], rsyncBytes: [] as number[] });
const results = { first: series(), none: series(), one: series() };
const treeBuilds: number[] = [];
let oneFileUploads = 0;

for (let round = 0; round < ROUNDS; round++) {
  const baseDir = `${remoteTmp}/base${round}`;
  const rsyncDir = `${remoteTmp}/rsync${round}`;
  const cacheDir = mkdtempSync(join(tmpdir(), "sr-bench-cache-"));
  const options = { root, baseDir, python: "python3", cacheDir, targetKey: "bench" };
  const step = async (key: keyof typeof results) => {
    results[key].ours.push(await timed(() => ours(options)));
    results[key].rsync.push(await timed(() => rsync(rsyncDir)));
    results[key].oursBytes.push(ourBytes);
    results[key].rsyncBytes.push(rsyncBytes);
  };
  await step("first");
  await step("none");
  writeFileSync(join(root, "pkg3/sub3/m1003.py"), `VALUE = ${round}-${Date.now()}\n`);
  await step("one");
  const last = await syncCode(transport, options);
  oneFileUploads = last.files_uploaded;
  treeBuilds.push(await treeBuildMs(baseDir, last.id));
  rmSync(cacheDir, { recursive: true, force: true });
}

const goals = { first: 1.5, none: 0.5, one: 1.0 };
const label = { first: "first sync", none: "no change", one: "one file changed" };
console.log(`codesync vs rsync -a --delete, ${FILES} files, same ssh ControlMaster, median of ${ROUNDS}`);
console.log("scenario           slurmray     rsync    ratio   goal      bytes: slurmray      rsync  ratio");
for (const key of ["first", "none", "one"] as const) {
  const mine = median(results[key].ours);
  const theirs = median(results[key].rsync);
  const ratio = mine / theirs;
  const ok = ratio <= goals[key] ? "ok" : "MISSED";
  const [b1, b2] = [median(results[key].oursBytes), median(results[key].rsyncBytes)];
  const bytes = `${String(b1).padStart(16)} ${String(b2).padStart(10)} ${b2 ? (b1 / b2).toFixed(2) : "-"}×`;
  console.log(`${label[key].padEnd(18)} ${mine.toFixed(0).padStart(6)} ms ${theirs.toFixed(0).padStart(6)} ms ${ratio.toFixed(2).padStart(6)}×  ≤${goals[key]}× ${ok.padEnd(6)} ${bytes}`);
}
console.log(`files uploaded for one change: ${oneFileUploads}`);
console.log(`building one job tree of ${FILES} files alone: ${median(treeBuilds).toFixed(0)} ms (included in "one file changed")`);

await transport.exec(["sh", "-c", 'chmod -R u+w -- "$1"; rm -rf -- "$1"', "sh", remoteTmp]);
await transport.shutdown();
rmSync(root, { recursive: true, force: true });
rmSync(dirname(transport.controlSocket), { recursive: true, force: true });
