// slurmray doctor: one line per check, ✓ ok, ⚠ warning (an optional component: the run still works) or
// ✗ failure, with the fix. The remote checks run as ONE remote script (remote/doctor.sh) whose output is a list
// of `key=value` lines, parsed here. Each kind adds its own probe lines and checks through the backend registry
// (backends/doctor.ts); nothing here names a kind. Exit code: 3 when the connection or authentication failed, 1 when a
// check failed, 0 when there are only warnings.
import { readFileSync } from "node:fs";
import { type Check, checkStatus } from "../backends/doctor.js";
import { kindInfo } from "../backends/registry.js";
import type { RemoteTargetConfig } from "../config/target.js";
import { PIP_CONFIG_PY } from "../envsync/installer-config.js";
import { remoteFile } from "../remote/index.js";
import type { Transport } from "../transport/types.js";
import { EXIT, SlurmrayError } from "../util/errors.js";

export type { Check, CheckStatus } from "../backends/doctor.js";

export interface Diagnosis {
  checks: Check[];
  exitCode: number;
}

function parseFacts(stdout: string): Map<string, string> {
  const facts = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) facts.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return facts;
}

const MIN_FREE_GB = 5;

function uvCheck(target: RemoteTargetConfig, facts: Map<string, string>): Check {
  const uv = facts.get("uv");
  const fix = "install uv on the target for faster installs (https://docs.astral.sh/uv/), or set install_uv = true";
  if (uv) return { name: "uv", status: "ok", detail: uv };
  if (target.install_uv) return { name: "uv", status: "ok", detail: "not found; slurmray installs it (install_uv = true)" };
  return { name: "uv", status: "warn", detail: "not found (optional: pip is used instead, slower)", fix };
}

/** Whether installs reach the package index with the site's pip configuration (what uv and pip get). */
function indexCheck(facts: Map<string, string>): Check {
  const url = facts.get("index_url") ?? "?";
  const result = facts.get("index_status");
  const trust = facts.get("index_trust") ?? "the default CA store";
  if (result === "ok") return { name: "package index", status: "ok", detail: `${url} reachable (${facts.get("index_detail")}; CA: ${trust})` };
  if (result === "skip") return { name: "package index", status: "ok", detail: "no-index set in pip's configuration: installs use find-links only" };
  const detail = facts.get("index_detail") ?? "no Python to test it with";
  const tls = /CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSL/i.test(detail);
  const fix = tls
    ? "on the target, point pip at a PEM bundle holding the site's CA: `cert = /path/to/ca-bundle.pem` under [global] in ~/.config/pip/pip.conf (or PIP_CERT); slurmray gives it to uv too"
    : "on the target, set the proxy or an index it can reach in ~/.config/pip/pip.conf ([global] `proxy = http://host:port` or `index-url = https://mirror/simple`, or PIP_PROXY / PIP_INDEX_URL); slurmray gives it to uv too";
  return { name: "package index", status: "fail", detail: `${url}: ${detail} (CA: ${trust})`, fix };
}

/** Checks after the connection was made (which itself covers reachable, host key, authenticated). */
export function remoteChecks(target: RemoteTargetConfig, pythonWanted: string, stdout: string): Check[] {
  const facts = parseFacts(stdout);
  const checks: Check[] = [];
  const pythons = (facts.get("pythons") ?? "").split(/\s+/).filter(Boolean);
  checks.push({
    name: "remote Python",
    status: checkStatus(Boolean(facts.get("python_wanted"))),
    detail: pythons.length ? `found ${pythons.map((v) => `python${v}`).join(", ")}; the project uses ${pythonWanted}` : "no python3.X found on PATH",
    fix: `make python${pythonWanted} available on the target (for example modules = ["python/${pythonWanted}"]), or set allow_python_install = true to let uv install it`,
  });
  checks.push(uvCheck(target, facts));
  checks.push(indexCheck(facts));
  checks.push(...(kindInfo(target.kind).doctor?.checks(target, facts) ?? []));
  checks.push({
    name: "base dir writable",
    status: checkStatus(facts.get("base_writable") === "yes"),
    detail: facts.get("base") ?? "",
    fix: "set base_dir in slurmray.toml to a folder you can write to",
  });
  const freeGb = Number(facts.get("free_kb") ?? "0") / 1024 / 1024;
  checks.push({
    name: "free disk",
    status: checkStatus(freeGb >= MIN_FREE_GB),
    detail: `${freeGb.toFixed(1)} GB free in ${facts.get("base") ?? "?"}`,
    fix: `free at least ${MIN_FREE_GB} GB there (slurmray clean removes old job folders), or set base_dir elsewhere`,
  });
  return checks;
}

/** Python run by doctor.sh after the site's pip configuration was loaded as uv's variables: one request to the
 * index's /simple/pip/ with that index, CA, client certificate and proxy. Prints key=value lines. */
const REACH_PY = `
import base64, os, ssl, urllib.error, urllib.parse, urllib.request
E = os.environ
index = (E.get("UV_INDEX_URL") or "https://pypi.org/simple").strip().rstrip("/")
parts = urllib.parse.urlsplit(index)
host = parts.hostname or ""
netloc = host + (":%d" % parts.port if parts.port else "")
shown = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
print("index_url=" + shown)
print("index_trust=" + (E.get("SSL_CERT_FILE") or E.get("SSL_CERT_DIR") or "the default CA store"))
if E.get("UV_NO_INDEX"):
    print("index_status=skip")
    raise SystemExit(0)
try:
    context = ssl.create_default_context(cafile=E.get("SSL_CERT_FILE") or None, capath=E.get("SSL_CERT_DIR") or None)
    if E.get("SSL_CLIENT_CERT"):
        context.load_cert_chain(E["SSL_CLIENT_CERT"])
    if host in E.get("UV_INSECURE_HOST", "").split() or netloc in E.get("UV_INSECURE_HOST", "").split():
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(shown + "/pip/")
    if parts.username:
        user = "%s:%s" % (urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or ""))
        request.add_header("Authorization", "Basic " + base64.b64encode(user.encode()).decode())
    with urllib.request.urlopen(request, timeout=15, context=context) as response:
        print("index_status=ok")
        print("index_detail=HTTP %d" % response.status)
except urllib.error.HTTPError as error:
    # The index answered: reachable and trusted. 404: it has no "pip" project, which is fine.
    print("index_status=" + ("ok" if error.code == 404 else "fail"))
    print("index_detail=HTTP %d" % error.code)
except Exception as error:
    print("index_status=fail")
    print("index_detail=" + " ".join(str(getattr(error, "reason", error)).split()))
`;

/** Connects and runs the probe. A connection failure becomes the failed check it is, not an exception. */
export async function diagnose(target: RemoteTargetConfig, transport: Transport, baseDir: string, pythonWanted: string): Promise<Diagnosis> {
  try {
    await transport.connect();
  } catch (error) {
    if (!(error instanceof SlurmrayError)) throw error;
    return { checks: [{ status: "fail", name: "connection", detail: transport.description, fix: error.message }], exitCode: error.exitCode };
  }
  const checks: Check[] = [{ status: "ok", name: "connection", detail: `${transport.description}: reachable, host key known, authenticated` }];
  const kindProbe = kindInfo(target.kind).doctor?.probe(target) ?? "";
  const probe = await transport.script(readFileSync(remoteFile("doctor.sh"), "utf8"), [baseDir, pythonWanted, PIP_CONFIG_PY, REACH_PY, kindProbe]);
  const all = [...checks, ...remoteChecks(target, pythonWanted, probe.stdout)];
  return { checks: all, exitCode: all.some((check) => check.status === "fail") ? EXIT.jobFailed : EXIT.ok };
}
