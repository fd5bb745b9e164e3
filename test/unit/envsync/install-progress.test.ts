// The installer's lines read for the progress display: uv's and pip's real output (captured from uv 0.13.9 and
// pip 23.2 without a terminal, and produced again here against a local wheelhouse), and what must never reach
// the terminal from them.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { InstallProgress, parseInstallerLine, printable, progressSink } from "../../../src/envsync/install-progress.js";
import { scratchDir } from "../../helpers/scratch.js";
import { buildWheels } from "../../helpers/wheel-index.js";

// pip install from an index (a progress bar line for the 3 MB wheel, as pip prints it without a terminal).
const PIP_INDEX = `Looking in indexes: http://127.0.0.1:18777/simple/
Collecting beta==2.0
  Downloading http://127.0.0.1:18777/files/beta-2.0-py3-none-any.whl (876 bytes)
Collecting alpha==1.0
  Downloading http://127.0.0.1:18777/files/alpha-1.0-py3-none-any.whl (866 bytes)
Collecting bigpkg==1.0
  Downloading http://127.0.0.1:18777/files/bigpkg-1.0-py3-none-any.whl (3.0 MB)
     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 3.0/3.0 MB 604.7 MB/s eta 0:00:00
Installing collected packages: bigpkg, alpha, beta
Successfully installed alpha-1.0 beta-2.0 bigpkg-1.0
`;
// pip install from a local dir (--find-links), a dependency pulled in, then an upgrade.
const PIP_LOCAL = `Looking in links: /tmp/ip-cap/idx/files
Processing ./idx/files/beta-2.0-py3-none-any.whl
Processing ./idx/files/gamma-1.0-py3-none-any.whl
Processing ./idx/files/alpha-2.0-py3-none-any.whl (from beta==2.0)
Installing collected packages: gamma, alpha, beta
Successfully installed alpha-2.0 beta-2.0 gamma-1.0
`;
const PIP_UPGRADE = `Collecting alpha==2.0
  Downloading http://127.0.0.1:18777/files/alpha-2.0-py3-none-any.whl (864 bytes)
Installing collected packages: alpha
  Attempting uninstall: alpha
    Found existing installation: alpha 1.0
    Uninstalling alpha-1.0:
      Successfully uninstalled alpha-1.0
Successfully installed alpha-2.0
`;
// uv pip install from an index: only the large download is announced while it runs.
const UV_INDEX = `Using Python 3.11.7 environment at: uvenv
Resolved 3 packages in 7ms
Downloading bigpkg (2.9MiB)
 Downloaded bigpkg
Prepared 3 packages in 7ms
Installed 3 packages in 0.97ms
 + alpha==1.0
 + beta==2.0
 + bigpkg==1.0
`;
const UV_UPGRADE = `Using Python 3.11.7 environment at: uvenv
Resolved 1 package in 3ms
Prepared 1 package in 1ms
Uninstalled 1 package in 0.53ms
Installed 1 package in 0.52ms
 - alpha==1.0
 + alpha==2.0
`;

function texts(output: string, planned: string[]): string[] {
  const progress = new InstallProgress(planned);
  return output.split("\n").flatMap((line) => progress.text(line) ?? []);
}

describe("the installer's lines", () => {
  it("pip from an index: each package as it is collected, n of m, then the install phase", () => {
    assert.deepEqual(texts(PIP_INDEX, ["beta", "alpha", "bigpkg"]), [
      "collecting beta (1 of 3)",
      "collecting alpha (2 of 3)",
      "collecting bigpkg (3 of 3)",
      "installing 3 packages",
    ]);
  });

  it("pip from a local dir: a dependency the plan did not list raises m", () => {
    assert.deepEqual(texts(PIP_LOCAL, ["beta", "gamma"]), [
      "collecting beta (1 of 2)",
      "collecting gamma (2 of 2)",
      "collecting alpha (3 of 3)",
      "installing 3 packages",
    ]);
  });

  it("pip upgrading: the old version's removal is not a package of its own", () => {
    assert.deepEqual(texts(PIP_UPGRADE, ["alpha"]), ["collecting alpha (1 of 1)", "installing 1 package"]);
  });

  it("uv: what it resolved, a large download with its size, the install, then each package installed, n of m", () => {
    assert.deepEqual(texts(UV_INDEX, ["alpha", "beta", "bigpkg"]), [
      "resolved 3 packages",
      "downloading bigpkg (2.9MiB)",
      "installing 3 packages",
      "installed alpha (1 of 3)",
      "installed beta (2 of 3)",
      "installed bigpkg (3 of 3)",
    ]);
  });

  it("uv upgrading: the replaced version is not counted", () => {
    assert.deepEqual(texts(UV_UPGRADE, ["alpha"]), ["resolved 1 package", "installing 1 package", "installed alpha (1 of 1)"]);
  });

  it("m counts distinct names, whatever their spelling", () => {
    assert.deepEqual(texts(" + Foo_Bar==1.0\n + foo-bar==1.0\n", ["foo.bar", "FOO-BAR"]), ["installed Foo_Bar (1 of 1)", "installed foo-bar (1 of 1)"]);
  });

  it("takes no URL, path or error text for a name", () => {
    for (const line of [
      "Collecting https://example.org/alpha-1.0-py3-none-any.whl",
      "Collecting ./local/dir",
      "ERROR: Could not find a version that satisfies the requirement alpha==9",
      "Looking in indexes: https://user:****@example.org/simple/",
      "Downloading http://127.0.0.1/files/alpha-1.0-py3-none-any.whl (3.0 MB)",
      "  Downloading alpha-1.0-py3-none-any.whl (3.0 MB)",
    ]) {
      assert.equal(parseInstallerLine(line), null, line);
    }
    assert.deepEqual(parseInstallerLine("Collecting beta[fast]>=1.0 (from -r requirements.txt (line 2))"), { kind: "package", verb: "collecting", name: "beta" });
  });

  it("puts no escape sequence or control character on the terminal", () => {
    assert.equal(printable("a\x1b[2J\x1b]0;title\x07b\x07c\u202ed\u200be\r"), "abcde");
    assert.equal(parseInstallerLine("Collecting \x1b[31mevil\x1b[0m==1.0")?.kind, "package");
    assert.deepEqual(parseInstallerLine(" + ev\x1b[2Jil==1.0"), { kind: "package", verb: "installed", name: "evil" });
    const hostile = ["Downloading big (2.9MiB) \x1b[2J", "Collecting a\u0000b==1.0", "Resolved 2 packages in \x1b]0;pwned\x07", " + x\u202e==1.0"];
    const shown = texts(hostile.join("\n"), ["ab"]);
    assert.deepEqual(shown, ["downloading big (2.9MiB)", "collecting ab (1 of 1)", "resolved 2 packages", "installed x (2 of 2)"]);
  });

  it("reads lines split across chunks and multi-byte characters split across them", async () => {
    const said: string[] = [];
    const sink = progressSink(["alpha", "beta"], (text) => said.push(text));
    const bytes = Buffer.from("Résolved\n + alpha==1.0\n + beta==2.0");
    for (let i = 0; i < bytes.length; i += 3) sink.write(bytes.subarray(i, i + 3));
    await new Promise<void>((resolve) => sink.end(resolve));
    assert.deepEqual(said, ["installed alpha (1 of 2)", "installed beta (2 of 2)"]);
  });
});

// The same lines from the installers themselves, against a local wheelhouse (no network).
describe("uv and pip against a local wheelhouse", () => {
  const wheels = buildWheels([
    { name: "alpha", version: "1.0" },
    { name: "beta", version: "2.0", requires: ["alpha>=1.0"] },
    { name: "gamma", version: "1.0" },
  ]);
  const scratch = scratchDir("sr-install-progress-");
  after(() => {
    rmSync(wheels, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });
  const links = join(wheels, "files");
  const isolated = { ...process.env, PIP_CONFIG_FILE: "/dev/null", PIP_FIND_LINKS: "", UV_CACHE_DIR: join(scratch, "uv-cache"), NO_COLOR: "1" };

  it("pip: each package collected, n of m, then the install phase", () => {
    const r = spawnSync(
      "python3",
      ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-index", "--find-links", links, "--target", join(scratch, "pip"), "beta==2.0", "gamma==1.0"],
      { encoding: "utf8", env: { ...isolated, PYTHONUNBUFFERED: "1" }, timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(texts(r.stdout + r.stderr, ["beta", "gamma"]), [
      "collecting beta (1 of 2)",
      "collecting gamma (2 of 2)",
      "collecting alpha (3 of 3)",
      "installing 3 packages",
    ]);
  });

  // uv says how many it installed before naming them: alpha (beta's dependency, not asked for) counts in m.
  it("uv: what it resolved, the install, then each package installed, n of m", (t) => {
    if (spawnSync("uv", ["--version"]).status !== 0) return t.skip("uv is not installed here");
    execFileSync("uv", ["venv", "-q", join(scratch, "uv")], { env: isolated });
    const r = spawnSync("uv", ["pip", "install", "--python", join(scratch, "uv", "bin", "python"), "--no-index", "--find-links", links, "beta==2.0", "gamma==1.0"], {
      encoding: "utf8",
      env: isolated,
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(texts(r.stderr, ["beta", "gamma"]), [
      "resolved 3 packages",
      "installing 3 packages",
      "installed alpha (1 of 3)",
      "installed beta (2 of 3)",
      "installed gamma (3 of 3)",
    ]);
  });
});
