import assert from "node:assert/strict";
import { test } from "node:test";
import { blamedPackages, installFailure } from "../../../src/envsync/install-errors.js";

const UV_NO_WHEEL = `Using Python 3.11.2 environment at: /e
  × No solution found when resolving dependencies:
  ╰─▶ Because only maconly==1.0 is available and maconly==1.0 has no wheels with a matching platform tag
      (e.g., \`manylinux_2_36_x86_64\`), we can conclude that maconly==1.0 cannot be used.
      And because you require maconly==1.0, we can conclude that your requirements are unsatisfiable.

      hint: Wheels are available for \`maconly\` (v1.0) on the following platform: \`macosx_11_0_arm64\``;
const PIP_NOT_FOUND = `Looking in indexes: http://127.0.0.1:1/simple/
Collecting alpha==1.0
  Downloading alpha-1.0-py3-none-any.whl
ERROR: Could not find a version that satisfies the requirement mac_only==1.0 (from versions: none)
ERROR: No matching distribution found for mac_only==1.0`;
const PIP_BUILD = `Collecting alpha==1.0
Collecting brokenpkg==2.0
  Downloading brokenpkg-2.0.tar.gz (2 kB)
  error: subprocess-exited-with-error
  × Getting requirements to build wheel did not run successfully.`;

test("uv's resolver report names the package", () => {
  assert.deepEqual(blamedPackages(UV_NO_WHEEL, ["alpha", "maconly"]), ["maconly"]);
});

test("pip's report names it (with _ and - the same name), not the packages collected before", () => {
  assert.deepEqual(blamedPackages(PIP_NOT_FOUND, ["alpha", "mac-only"]), ["mac-only"]);
});

test("a build failure without a name blames the package being collected", () => {
  assert.deepEqual(blamedPackages(PIP_BUILD, ["alpha", "brokenpkg"]), ["brokenpkg"]);
});

test("a name that is a prefix of another is not blamed by mistake", () => {
  assert.deepEqual(blamedPackages(UV_NO_WHEEL, ["mac", "maconly"]), ["maconly"]);
});

test("the error names the package and suggests exclude", () => {
  const error = installFailure(UV_NO_WHEEL, ["alpha", "maconly"], "/e");
  assert.equal(error.failure, "package");
  assert.match(error.message, /Package "maconly" could not be installed/);
  assert.match(error.message, /exclude = \["maconly"\]/);
});

test("a full disk and an unreachable index are told apart from a bad package", () => {
  assert.equal(installFailure("OSError: [Errno 28] No space left on device: '/e/lib'", ["alpha"], "/e").failure, "disk");
  const network = "error: Failed to fetch: `http://127.0.0.1:9/simple/alpha/`\n  Caused by: error sending request\n  Caused by: Connection refused (os error 111)";
  assert.equal(installFailure(network, ["alpha"], "/e").failure, "network");
  assert.equal(installFailure("something odd", ["alpha"], "/e").failure, "other");
});

test("a TLS failure names the setting that fixes it and where to put it", () => {
  const uv = "error: Failed to fetch: `https://idx/simple/alpha/`\n  Caused by: error sending request\n  Caused by: invalid peer certificate: UnknownIssuer";
  const pip = "WARNING: Retrying ... SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))";
  for (const stderr of [uv, pip]) {
    const error = installFailure(stderr, ["alpha"], "/e");
    assert.equal(error.failure, "network");
    assert.match(error.message, /cert = \/path\/to\/ca-bundle\.pem` under \[global\] in ~\/\.config\/pip\/pip\.conf/);
  }
  const refused = installFailure("Caused by: Connection refused (os error 111)", ["alpha"], "/e");
  assert.match(refused.message, /proxy = http:\/\/host:port/);
});

test("with the snapshot read from a requirements file, the hint says to remove the package there", () => {
  const error = installFailure(UV_NO_WHEEL, ["alpha", "maconly"], "/e", "/p/requirements.txt");
  assert.match(error.message, /remove it from \/p\/requirements\.txt, or leave it out in slurmray\.toml/);
  assert.doesNotMatch(error.message, /list what the job needs in a requirements file/, "the project already has one");
  assert.match(error.message, /exclude = \["maconly"\]/);
  assert.match(installFailure(UV_NO_WHEEL, ["maconly"], "/e").message, /list what the job needs in a requirements file/);
});
