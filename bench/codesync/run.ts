// Benchmark: syncCode (objects into the content-addressed store, plus the job tree it builds or derives) against
// `rsync -a --delete` over the same multiplexed ssh (the test bed's sshd), on trees of 100-byte files:
// first sync, nothing changed, one file changed; bytes on the wire next to rsync's "Total bytes sent";
// and the time to build one job tree alone. Medians of a few rounds.
//   BENCH_FILES=5000,100000   the tree sizes (comma-separated)
//   BENCH_GIT=0,1             outside git (0) and/or in a git work tree with every file committed (1)
//   BENCH_ROUNDS=3            rounds per case
//   BENCH_SHAPED=1            also one round of 5,000 files (outside git) through a shaped link:
//                             a loopback forward (shaper.ts) at 20 Mbit/s and 20 ms each way
// Run: npx tsx bench/codesync/run.ts   (needs the test bed: `bash scripts/test-cluster.sh up`)
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { applyArgv } from "../../src/codesync/store.js";
import { syncCode } from "../../src/codesync/sync.js";
import { remoteFile } from "../../src/remote/index.js";
import { OpenSshTransport } from "../../src/transport/openssh.js";
import { settle } from "../../test/helpers/settle.js";
import { bedTransport, testbed } from "../../test/helpers/testbed.js";
import { git, gitInit, makeTree } from "../../test/unit/codesync/tree.js";

const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(",").map(Number);
const SIZES = list("BENCH_FILES", "5000,100000");
const GIT = list("BENCH_GIT", "0,1");
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const SHAPED = process.env["BENCH_SHAPED"] === "1";

const bed = testbed();
if (!bed) {
  console.error("test bed not running: bash scripts/test-cluster.sh up");
  process.exit(2);
}

/** Where module i of a bench project lives. */
const modulePath = (i: number): string => `pkg${i % 50}/sub${i % 7}/m${i}.py`;

/**
 * `count` files of exactly 100 bytes in 350 directories, dated an hour ago like a project that exists
 * (a tree made a second ago has racily recent dirs, which the selection cache rightly does not trust), and
 * past the clock's tick of the change times that dating gives them, which nothing can set back.
 */
function makeProject(count: number, inGit: boolean): string {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[modulePath(i)] = `# module ${i}\nVALUE = ${i}\n`.padEnd(99, "#") + "\n";
  const root = makeTree(files, "sr-bench-");
  if (inGit) {
    gitInit(root);
    git(root, "add", "-A");
    git(root, "commit", "-qm", "bench");
  }
  const hourAgo = Date.now() / 1000 - 3600;
  const paths = [...Object.keys(files), ...new Set(Object.keys(files).flatMap((f) => [dirname(f), dirname(dirname(f))]))];
  for (const path of paths) utimesSync(join(root, path), hourAgo, hourAgo);
  settle(join(root, paths.at(-1)!)); // the last one changed
  return root;
}

/** Our bytes on the wire: the gzip stream plus the apply command's argv (codestore.py travels in it). */
const ARGV_BYTES = applyArgv("python3", "/tmp/base", "0".repeat(64)).join(" ").length;

/** Building one job tree of the manifest `id` from its objects, alone, timed on the target. */
async function treeBuildMs(transport: OpenSshTransport, base: string, id: string): Promise<number> {
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
const label = { first: "first sync", none: "no change", one: "one file changed" };

/** One case: `files` files, in git or not, over `transport` (rsync shares its ControlMaster). */
async function runCase(transport: OpenSshTransport, sshConfig: string, files: number, inGit: boolean, rounds: number, title: string): Promise<void> {
  const root = makeProject(files, inGit);
  const remoteTmp = (await transport.exec(["mktemp", "-d", "/tmp/sr-bench-XXXXXX"])).stdout.trim();
  // The ssh command rsync runs: the same master (-S), so neither side pays a new connection.
  const sshForRsync = ["ssh", "-F", sshConfig, "-S", transport.controlSocket].join(" ");
  let rsyncBytes = 0;
  const rsync = (dest: string) => {
    // .git is left out, as slurmray never ships it.
    const args = ["-a", "--delete", "--stats", ...(inGit ? ["--exclude=.git"] : []), "-e", sshForRsync, `${root}/`, `srtb:${dest}/`];
    const out = execFileSync("rsync", args, { encoding: "utf8" });
    rsyncBytes = Number(/Total bytes sent: ([\d,]+)/.exec(out)?.[1]?.replaceAll(",", "") ?? 0);
  };
  let ourBytes = 0;
  let ourFiles = 0;
  let lastId = "";
  // As in `run`: the sync ends at the apply's answer, while the target makes the spare tree for the next
  // change; that is awaited (untimed) before anything else runs.
  let spare = Promise.resolve();
  const ours = async (options: Parameters<typeof syncCode>[1]) => {
    const r = await syncCode(transport, { ...options, background: true });
    ourBytes = r.bytes_uploaded + (r.remote_commands > 1 ? ARGV_BYTES : 0);
    ourFiles = r.files_uploaded;
    lastId = r.id;
    spare = r.background;
  };
  const results = { first: series(), none: series(), one: series() };
  const treeBuilds: number[] = [];
  const spareMs: number[] = [];
  let oneFileUploads = 0;
  for (let round = 0; round < rounds; round++) {
    const baseDir = `${remoteTmp}/base${round}`;
    const rsyncDir = `${remoteTmp}/rsync${round}`;
    const cacheDir = mkdtempSync(join(tmpdir(), "sr-bench-cache-"));
    const options = { root, baseDir, python: "python3", cacheDir, targetKey: "bench" };
    const step = async (key: keyof typeof results) => {
      results[key].ours.push(await timed(() => ours(options)));
      spareMs.push(await timed(() => spare));
      results[key].rsync.push(await timed(() => rsync(rsyncDir)));
      results[key].oursBytes.push(ourBytes);
      results[key].rsyncBytes.push(rsyncBytes);
    };
    await step("first");
    await step("none");
    // An existing file edited in place, in every round (a file added changes its directory: the selection is made again).
    const edited = join(root, modulePath(1003));
    if (!existsSync(edited)) throw new Error(`${edited} is not in the project`);
    writeFileSync(edited, `VALUE = ${round}-${Date.now()}\n`.padEnd(99, "#") + "\n");
    await step("one");
    oneFileUploads = ourFiles;
    treeBuilds.push(await treeBuildMs(transport, baseDir, lastId));
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const goals = { first: 1.5, none: 0.5, one: files > 5000 ? 1.5 : 1.0 };
  console.log(`\n${title}: ${files} files of 100 bytes, ${inGit ? "git work tree" : "not git"}, median of ${rounds}`);
  console.log("scenario           slurmray      rsync    ratio   goal          bytes: slurmray      rsync  ratio");
  for (const key of ["first", "none", "one"] as const) {
    const mine = median(results[key].ours);
    const theirs = median(results[key].rsync);
    const ratio = mine / theirs;
    const ok = ratio <= goals[key] ? "ok" : "MISSED";
    const [b1, b2] = [median(results[key].oursBytes), median(results[key].rsyncBytes)];
    const bytes = `${String(b1).padStart(16)} ${String(b2).padStart(10)} ${b2 ? (b1 / b2).toFixed(2) : "-"}×`;
    console.log(`${label[key].padEnd(18)} ${mine.toFixed(0).padStart(7)} ms ${theirs.toFixed(0).padStart(7)} ms ${ratio.toFixed(2).padStart(6)}×  ≤${goals[key]}× ${ok.padEnd(6)} ${bytes}`);
  }
  console.log(`files uploaded for one change: ${oneFileUploads}`);
  console.log(`building one job tree of ${files} files alone, in full: ${median(treeBuilds).toFixed(0)} ms (a change derives it from the spare instead)`);
  console.log(`the spare tree after the answer (not waited for by a run): median ${median(spareMs).toFixed(0)} ms, longest ${Math.max(...spareMs).toFixed(0)} ms`);
  await transport.exec(["sh", "-c", 'chmod -R u+w -- "$1"; rm -rf -- "$1"', "sh", remoteTmp]);
  rmSync(root, { recursive: true, force: true });
}

const direct = bedTransport(bed, "/tmp/srb-");
await direct.connect();
for (const files of SIZES) for (const inGit of GIT) await runCase(direct, bed.sshConfig, files, inGit === 1, ROUNDS, "loopback");
await direct.shutdown();
rmSync(dirname(direct.controlSocket), { recursive: true, force: true });

if (SHAPED) {
  const shaper = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "shaper.ts"), String(bed.port), "20000000", "20"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(shaper.stdout, "data")) as [Buffer];
  const shaperPort = Number(line.toString().trim());
  // The bed's host key is known as [host]:port of its sshd; through the forward the port differs.
  const config = join(mkdtempSync(join(tmpdir(), "sr-bench-ssh-")), "ssh_config");
  writeFileSync(config, readFileSync(bed.sshConfig, "utf8").replace(/^(Host srtb\n(?:[ \t]+.*\n)*?)[ \t]+Port \d+\n/m, `$1  Port ${shaperPort}\n  HostKeyAlias [${bed.host}]:${bed.port}\n`));
  const shaped = new OpenSshTransport({ host: "srtb", sshConfigFile: config, controlDir: mkdtempSync("/tmp/srb-") });
  try {
    await shaped.connect();
    await runCase(shaped, config, 5000, false, 1, "shaped link (20 Mbit/s, 20 ms each way)");
  } finally {
    await shaped.shutdown();
    shaper.kill();
    rmSync(dirname(config), { recursive: true, force: true });
    rmSync(dirname(shaped.controlSocket), { recursive: true, force: true });
  }
}
