// Choosing a transport.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createTransport, onPath, passwordFromEnv } from "../../../src/transport/index.js";
import { scratchDir } from "../../helpers/scratch.js";

test("local, explicit openssh/ssh2, and auto by the presence of ssh", () => {
  assert.equal(createTransport({ kind: "local" }).kind, "local");
  assert.equal(createTransport({ kind: "ssh", host: "h", implementation: "ssh2" }).kind, "ssh2");
  assert.equal(createTransport({ kind: "ssh", host: "h", implementation: "openssh" }).kind, "openssh");
  assert.equal(createTransport({ kind: "ssh", host: "h" }).kind, onPath("ssh") ? "openssh" : "ssh2");
});

test("onPath finds only executables", () => {
  const dir = scratchDir("sr-path-");
  writeFileSync(join(dir, "tool"), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(dir, "plain"), "", { mode: 0o644 });
  assert.equal(onPath("tool", dir), true);
  assert.equal(onPath("plain", dir), false);
  assert.equal(onPath("missing", dir), false);
});

test("SLURMRAY_PASSWORD becomes a password provider", async () => {
  assert.equal(passwordFromEnv({}), undefined);
  assert.equal(await passwordFromEnv({ SLURMRAY_PASSWORD: "s3cret" })?.("Password:"), "s3cret");
});

test("an ssh host starting with a dash is refused before anything runs", () => {
  assert.throws(() => createTransport({ kind: "ssh", host: "-oProxyCommand=x", implementation: "openssh" }), {
    name: "InputError",
  });
});
