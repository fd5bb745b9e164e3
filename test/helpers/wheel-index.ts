// A hermetic PEP 503 package index for the env tests: small pure-Python wheels generated with Python's
// zipfile (METADATA, WHEEL, RECORD as installers check them), served by `python3 -m http.server` on
// loopback. Built and started once per test process; stopped by PID.
// uv's cache, shared by every run as the bed's user, knows a wheel by its URL, and a later run's index may get
// the same port: a wheel built with the clock in its zip entries then failed with "Hash mismatch for
// alpha==1.1" against an earlier run's. So each index is served below a random path, and its wheels are
// byte-identical from one run to the next all the same.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { freeLocalPort } from "../../src/transport/openssh.js";
import { scratchDir } from "./scratch.js";

export interface WheelSpec {
  name: string;
  version: string;
  requires?: string[];
  extras?: string[];
  /** Platform tag; "any" unless the wheel is for another platform. */
  platform?: string;
}

export interface WheelIndex {
  /** The PEP 503 root: http://127.0.0.1:PORT/simple/ */
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** pkg01..pkg30: the "one changed among 30" set. */
export const MANY = Array.from({ length: 30 }, (_, i) => `pkg${String(i + 1).padStart(2, "0")}`);

export const WHEELS: WheelSpec[] = [
  { name: "alpha", version: "1.0" },
  { name: "alpha", version: "1.1" },
  { name: "alpha", version: "2.0" },
  { name: "beta", version: "1.0", extras: ["fast"], requires: ['gamma; extra == "fast"'] },
  // Parity: beta 2.0 accepts any alpha >= 1.0, so without constraints the newest (2.0) would be chosen.
  { name: "beta", version: "2.0", requires: ["alpha>=1.0"] },
  { name: "gamma", version: "1.0" },
  { name: "delta", version: "1.0", requires: ["epsilon>=1.0", 'winonly; sys_platform == "win32"'] },
  { name: "epsilon", version: "1.0" },
  { name: "epsilon", version: "1.1" },
  { name: "winonly", version: "1.0" },
  { name: "maconly", version: "1.0", platform: "macosx_11_0_arm64" },
  ...MANY.flatMap((name) => [
    { name, version: "1.0" },
    { name, version: "1.1" },
  ]),
];

const BUILD = String.raw`
import base64, hashlib, html, json, os, sys, zipfile
root, specs = sys.argv[1], json.loads(sys.argv[2])
files = os.path.join(root, "files"); os.makedirs(files)
links = {}
for spec in specs:
    name, version, tag = spec["name"], spec["version"], spec.get("platform") or "any"
    stem = "%s-%s" % (name, version)
    wheel = "%s-py3-none-%s.whl" % (stem, tag)
    info = stem + ".dist-info"
    meta = ["Metadata-Version: 2.1", "Name: " + name, "Version: " + version]
    meta += ["Provides-Extra: " + e for e in spec.get("extras", [])]
    meta += ["Requires-Dist: " + r for r in spec.get("requires", [])]
    content = {
        name + "/__init__.py": "__version__ = %r\n" % version,
        info + "/METADATA": "\n".join(meta) + "\n",
        info + "/WHEEL": "Wheel-Version: 1.0\nGenerator: slurmray-tests\nRoot-Is-Purelib: true\nTag: py3-none-%s\n" % tag,
    }
    record = []
    for path, text in content.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append(info + "/RECORD,,")
    content[info + "/RECORD"] = "\n".join(record) + "\n"
    path = os.path.join(files, wheel)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in content.items():
            # A fixed date: the same spec gives the same bytes in every run (see the note at the top).
            entry = zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, text, compress_type=zipfile.ZIP_DEFLATED)
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    links.setdefault(name, []).append('<a href="../../files/%s#sha256=%s">%s</a><br>' % (wheel, sha, html.escape(wheel)))
simple = os.path.join(root, "simple"); os.makedirs(simple)
with open(os.path.join(simple, "index.html"), "w") as out:
    out.write("<html><body>%s</body></html>\n" % "".join('<a href="%s/">%s</a><br>' % (n, n) for n in sorted(links)))
for name, items in links.items():
    os.makedirs(os.path.join(simple, name))
    with open(os.path.join(simple, name, "index.html"), "w") as out:
        out.write("<html><body>%s</body></html>\n" % "".join(items))
`;

async function waitUntilServing(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the wheel index server exited (code ${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the wheel index at ${url} did not come up within 10 s`);
}

/** Stops a server started by a test (by its PID) and removes its folder. */
export function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/**
 * Builds the wheels in `dir` (default: a new temp dir): the wheel files in `<dir>/files`, the PEP 503 pages in
 * `<dir>/simple`.
 */
export function buildWheels(specs: readonly WheelSpec[], dir = scratchDir("sr-wheels-")): string {
  execFileSync("python3", ["-c", BUILD, dir, JSON.stringify(specs)], { timeout: 60_000 });
  return dir;
}

async function start(): Promise<WheelIndex> {
  // Served below a random path: no two runs share an index URL, whatever port they get.
  const root = scratchDir("sr-wheels-");
  const prefix = randomBytes(8).toString("hex");
  const dir = buildWheels(WHEELS, join(root, prefix));
  const port = await freeLocalPort();
  const child = spawn("python3", ["-m", "http.server", "--bind", "127.0.0.1", "--directory", root, String(port)], {
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}/${prefix}/simple/`;
  const stop = stopper(child, root);
  try {
    await waitUntilServing(url, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, dir, stop };
}

let running: Promise<WheelIndex> | null = null;

/** The index for this test process (built and started on first use). Call stop() in an `after` hook. */
export function wheelIndex(): Promise<WheelIndex> {
  running ??= start();
  return running;
}
