// known_hosts matching as OpenSSH does it, for the ssh2 transport.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  appendHostKey,
  checkHostKey,
  fingerprint,
  hostKeyName,
  keyType,
} from "../../../src/transport/known-hosts.js";
import { scratchDir } from "../../helpers/scratch.js";

/** A real ed25519 public key in wire format, and its OpenSSH fingerprint. */
function newKey(): { key: Buffer; line: string; fingerprint: string } {
  const dir = scratchDir("sr-kh-");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
  const line = readFileSync(join(dir, "k.pub"), "utf8").trim();
  const printed = execFileSync("ssh-keygen", ["-l", "-f", join(dir, "k.pub")], { encoding: "utf8" });
  return { key: Buffer.from(line.split(" ")[1]!, "base64"), line, fingerprint: printed.split(" ")[1]! };
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
}

const a = newKey();
const b = newKey();
const entry = (hosts: string, key = a) => `${hosts} ${key.line.split(" ").slice(0, 2).join(" ")}`;

test("names, key type and fingerprint match OpenSSH", () => {
  assert.equal(hostKeyName("h", 22), "h");
  assert.equal(hostKeyName("127.0.0.1", 2222), "[127.0.0.1]:2222");
  assert.equal(keyType(a.key), "ssh-ed25519");
  assert.equal(fingerprint(a.key), a.fingerprint);
});

test("plain, [host]:port, comma lists and wildcards are known", () => {
  assert.equal(checkHostKey(entry("login.example"), "login.example", a.key), "known");
  assert.equal(checkHostKey(entry("[127.0.0.1]:2222"), "[127.0.0.1]:2222", a.key), "known");
  assert.equal(checkHostKey(entry("other,LOGIN.example"), "login.example", a.key), "known");
  assert.equal(checkHostKey(entry("*.example"), "login.example", a.key), "known");
  assert.equal(checkHostKey(entry("127.0.0.1"), "[127.0.0.1]:2222", a.key), "unknown");
});

test("hashed entries match only their name", () => {
  assert.equal(checkHostKey(entry(hashed("[h]:2200")), "[h]:2200", a.key), "known");
  assert.equal(checkHostKey(entry(hashed("[h]:2200")), "h", a.key), "unknown");
});

test("negated patterns exclude, comments and blank lines are ignored", () => {
  assert.equal(checkHostKey(entry("*.example,!login.example"), "login.example", a.key), "unknown");
  assert.equal(checkHostKey(`# login.example\n\n${entry("login.example")}`, "login.example", a.key), "known");
});

test("a different key of the same type is a change; any matching line wins", () => {
  assert.equal(checkHostKey(entry("h", b), "h", a.key), "changed");
  assert.equal(checkHostKey(`${entry("h", b)}\n${entry("h", a)}`, "h", a.key), "known");
  assert.equal(checkHostKey(`@revoked ${entry("h", a)}\n${entry("h", a)}`, "h", a.key), "revoked");
  assert.equal(checkHostKey(`@cert-authority ${entry("h", b)}`, "h", a.key), "unknown");
});

test("appendHostKey writes a line that then checks as known", () => {
  const file = join(scratchDir("sr-kh-"), "sub", "known_hosts");
  appendHostKey(file, "[h]:2200", a.key);
  appendHostKey(file, "other", b.key);
  const text = readFileSync(file, "utf8");
  assert.equal(checkHostKey(text, "[h]:2200", a.key), "known");
  assert.equal(checkHostKey(text, "other", b.key), "known");
  assert.equal(text.split("\n").length, 3);
});
