// known_hosts for the ssh2 transport, read and written the way OpenSSH does: "[host]:port" names for
// non-standard ports, hashed |1|salt|hash entries, wildcard and negated patterns, @revoked markers.
import { createHash, createHmac } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

export type HostKeyStatus = "known" | "unknown" | "changed" | "revoked";

/** The name a host is recorded under: "host" on port 22, "[host]:port" otherwise. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type inside an SSH wire-format public key ("ssh-ed25519", "ssh-rsa", …). */
export function keyType(key: Buffer): string {
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString("latin1");
}

/** "SHA256:…" as `ssh-keygen -l` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${body}$`, "i");
}

function hashedMatches(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split("|");
  if (!salt || !hash) return false;
  return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
}

function hostsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith("|1|")) return hashedMatches(patterns, name);
  let matched = false;
  for (const pattern of patterns.split(",")) {
    const negated = pattern.startsWith("!");
    if (!globToRegExp(negated ? pattern.slice(1) : pattern).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** Checks `key` for host `name` against the text of known_hosts files. */
export function checkHostKey(knownHosts: string, name: string, key: Buffer): HostKeyStatus {
  const type = keyType(key);
  const encoded = key.toString("base64");
  let status: HostKeyStatus = "unknown";
  for (const raw of knownHosts.split("\n")) {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith("#")) continue;
    const marker = fields[0].startsWith("@") ? fields.shift() : undefined;
    const [patterns, lineType, lineKey] = fields;
    if (!patterns || !lineKey || marker === "@cert-authority" || !hostsMatch(patterns, name)) continue;
    if (marker === "@revoked") {
      if (lineKey === encoded) return "revoked";
      continue;
    }
    if (lineType === type) status = lineKey === encoded ? "known" : status === "known" ? "known" : "changed";
  }
  return status;
}

/** The text of the given known_hosts files (missing files count as empty). */
export function readKnownHosts(files: readonly string[]): string {
  return files.map((f) => (existsSync(f) ? readFileSync(f, "utf8") : "")).join("\n");
}

/** Records a host key, as OpenSSH's accept-new does. */
export function appendHostKey(file: string, name: string, key: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const separator = text && !text.endsWith("\n") ? "\n" : "";
  appendFileSync(file, `${separator}${name} ${keyType(key)} ${key.toString("base64")}\n`, { mode: 0o600 });
}
