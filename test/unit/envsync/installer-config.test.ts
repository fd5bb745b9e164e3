// The pip → uv translation, run by a real Python against pip.conf files in a temporary HOME.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { PIP_CONFIG_PY, PIP_FALLBACK_MARK, pipFallbackWarning } from "../../../src/envsync/installer-config.js";
import { scratchDir } from "../../helpers/scratch.js";

const home = scratchDir("sr-pipcfg-");
after(() => rmSync(home, { recursive: true, force: true }));

/** The exports the snippet prints, as a map, for a clean environment plus `env`. */
function translate(env: Record<string, string>): Map<string, string> {
  const clean = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_DIRS: join(home, "etc-xdg"), ...env };
  const out = execFileSync("python3", ["-I", "-c", PIP_CONFIG_PY], { env: clean, encoding: "utf8" });
  return new Map(
    out
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const m = /^export ([A-Z_]+)=(.*)$/.exec(line)!;
        return [m[1]!, m[2]!.replace(/^'|'$/g, "")];
      }),
  );
}

function write(path: string, text: string): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

test("the user's pip.conf becomes uv's index, extra index, find-links, trusted host, cert and proxy", () => {
  const cert = write(join(home, "ca.pem"), "x");
  write(
    join(home, ".config", "pip", "pip.conf"),
    `[global]\nindex-url = https://mirror/simple\nextra_index_url = https://a/simple\n    https://b/simple\ncert = ${cert}\nproxy = http://proxy:3128\n` +
      "[install]\nfind-links = /w1 /w2\ntrusted-host = mirror\n",
  );
  const vars = translate({});
  assert.equal(vars.get("UV_INDEX_URL"), "https://mirror/simple");
  assert.equal(vars.get("UV_EXTRA_INDEX_URL"), "https://a/simple https://b/simple");
  assert.equal(vars.get("UV_FIND_LINKS"), "/w1,/w2");
  assert.equal(vars.get("UV_INSECURE_HOST"), "mirror");
  assert.equal(vars.get("SSL_CERT_FILE"), cert);
  assert.equal(vars.get("HTTPS_PROXY"), "http://proxy:3128");
  assert.equal(vars.get("HTTP_PROXY"), "http://proxy:3128");
});

test("pip's precedence: [install] over [global], PIP_CONFIG_FILE over user files, PIP_* over all", () => {
  const named = write(join(home, "named.conf"), "[global]\nindex-url = https://named/simple\n");
  assert.equal(translate({ PIP_CONFIG_FILE: named }).get("UV_INDEX_URL"), "https://named/simple");
  assert.equal(translate({ PIP_CONFIG_FILE: named, PIP_INDEX_URL: "https://env/simple" }).get("UV_INDEX_URL"), "https://env/simple");
  write(join(home, "etc-xdg", "pip", "pip.conf"), "[install]\nindex-url = https://global-install/simple\n");
  assert.equal(translate({}).get("UV_INDEX_URL"), "https://global-install/simple");
  // uv's own variable, already set, wins; PIP_CONFIG_FILE=/dev/null turns the files off.
  assert.equal(translate({ UV_INDEX_URL: "https://uv/simple" }).has("UV_INDEX_URL"), false);
  assert.equal(translate({ PIP_CONFIG_FILE: "/dev/null" }).has("UV_INDEX_URL"), false);
  rmSync(join(home, "etc-xdg"), { recursive: true });
});

test("a cert directory becomes SSL_CERT_DIR; no cert at all points uv at the system bundle", () => {
  // No files at all (this machine's /etc/pip.conf sets a cert).
  const none = { PIP_CONFIG_FILE: "/dev/null" };
  assert.match(translate(none).get("SSL_CERT_FILE") ?? "", /\.(crt|pem)$/);
  assert.equal(translate({ ...none, SSL_CERT_FILE: "/mine.pem" }).has("SSL_CERT_FILE"), false);
  assert.equal(translate({ PIP_CERT: home }).get("SSL_CERT_DIR"), home);
});

test("the fallback warning is given only when the script says pip took over", () => {
  assert.equal(pipFallbackWarning("error: something", "/e"), null);
  assert.match(pipFallbackWarning(`x\n${PIP_FALLBACK_MARK}\n`, "/e") ?? "", /pip installed into \/e instead/);
});
