// slurmray doctor: one line per check, ✓ ok, ⚠ warning (an optional component: the run still works) or
// ✗ failure, with the fix. The remote checks run as ONE remote script (remote/doctor.sh) whose output is a list
// of `key=value` lines, parsed here. Exit code: 3 when the connection or authentication failed, 1 when a
// check failed, 0 when there are only warnings.
import { readFileSync } from "node:fs";
import { DEFAULT_QUEUE_DIR } from "../backends/server/queue-cli.js";
import type { TargetConfig } from "../config/schema.js";
import { PIP_CONFIG_PY } from "../envsync/installer-config.js";
import { remoteFile } from "../remote/index.js";
import type { Transport } from "../transport/types.js";
import { EXIT, SlurmrayError } from "../util/errors.js";

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do, for a warning or a failure. */
  fix?: string;
}

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
const REQUIRED_SLURM = ["sbatch", "squeue", "scancel", "sinfo"];

const status = (ok: boolean, otherwise: CheckStatus = "fail"): CheckStatus => (ok ? "ok" : otherwise);

function uvCheck(target: TargetConfig, facts: Map<string, string>): Check {
  const uv = facts.get("uv");
  const fix = "install uv on the target for faster installs (https://docs.astral.sh/uv/), or set install_uv = true";
  if (uv) return { name: "uv", status: "ok", detail: uv };
  if (target.kind !== "local" && target.install_uv) return { name: "uv", status: "ok", detail: "not found; slurmray installs it (install_uv = true)" };
  return { name: "uv", status: "warn", detail: "not found (optional: pip is used instead, slower)", fix };
}

function slurmChecks(target: TargetConfig, facts: Map<string, string>): Check[] {
  const has = (command: string): boolean => facts.get(`slurm_${command}`) === "yes";
  const missing = REQUIRED_SLURM.filter((command) => !has(command));
  const checks: Check[] = [
    {
      name: "Slurm commands",
      status: status(missing.length === 0),
      detail: missing.length ? `missing: ${missing.join(", ")}` : REQUIRED_SLURM.join(", "),
      fix: "load Slurm in your login shell on the target (modules = [...] in slurmray.toml) or check the host is a login node",
    },
    has("sacct")
      ? { name: "sacct", status: "ok", detail: "job accounting available" }
      : {
          name: "sacct",
          status: "warn",
          detail: "not found (optional: a finished job's state and its CPU and memory figures come from squeue alone)",
          fix: "ask the cluster admins whether Slurm accounting (slurmdbd) is available, and load it in your login shell",
        },
  ];
  const partitions = (facts.get("partitions") ?? "").split(/\s+/).filter(Boolean);
  const wanted = target.kind === "slurm" ? target.partition : undefined;
  const names = partitions.map((p) => p.replace(/\*$/, ""));
  checks.push({
    name: "partitions",
    status: status(partitions.length > 0 && (!wanted || names.includes(wanted))),
    detail: partitions.length ? `${partitions.join(", ")}${wanted ? ` (configured: ${wanted})` : ""}` : "none visible",
    fix: wanted ? `set partition to one of: ${names.join(", ")}` : "ask the cluster admins which partition to use",
  });
  return checks;
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
/** The server kind's queue dir: an admin makes it once, root's, sticky and open to all; anything else is refused. */
function queueDirCheck(dir: string, found: string): Check {
  const fix = `ask an admin of the server to run once: sudo install -d -m 1777 -o root -g root ${dir}`;
  if (found === "missing") return { name: "queue dir", status: "fail", detail: `${dir} does not exist`, fix };
  const [uid, mode] = found.split(" ");
  const safe = uid === "0" && mode === "1777";
  return { name: "queue dir", status: status(safe), detail: `${dir}: owner uid ${uid}, mode ${mode}${safe ? "" : " (must be root's, mode 1777: a dir another user made could be swapped)"}`, fix };
}

export function remoteChecks(target: TargetConfig, pythonWanted: string, stdout: string): Check[] {
  const facts = parseFacts(stdout);
  const checks: Check[] = [];
  const pythons = (facts.get("pythons") ?? "").split(/\s+/).filter(Boolean);
  checks.push({
    name: "remote Python",
    status: status(Boolean(facts.get("python_wanted"))),
    detail: pythons.length ? `found ${pythons.map((v) => `python${v}`).join(", ")}; the project uses ${pythonWanted}` : "no python3.X found on PATH",
    fix: `make python${pythonWanted} available on the target (for example modules = ["python/${pythonWanted}"]), or set allow_python_install = true to let uv install it`,
  });
  checks.push(uvCheck(target, facts));
  checks.push(indexCheck(facts));
  if (target.kind === "slurm") checks.push(...slurmChecks(target, facts));
  if (target.kind === "server") checks.push(queueDirCheck(target.queue_dir ?? DEFAULT_QUEUE_DIR, facts.get("queue_dir") ?? "missing"));
  checks.push({
    name: "base dir writable",
    status: status(facts.get("base_writable") === "yes"),
    detail: facts.get("base") ?? "",
    fix: "set base_dir in slurmray.toml to a folder you can write to",
  });
  const freeGb = Number(facts.get("free_kb") ?? "0") / 1024 / 1024;
  checks.push({
    name: "free disk",
    status: status(freeGb >= MIN_FREE_GB),
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
export async function diagnose(target: TargetConfig, transport: Transport, baseDir: string, pythonWanted: string): Promise<Diagnosis> {
  try {
    await transport.connect();
  } catch (error) {
    if (!(error instanceof SlurmrayError)) throw error;
    return { checks: [{ status: "fail", name: "connection", detail: transport.description, fix: error.message }], exitCode: error.exitCode };
  }
  const checks: Check[] = [{ status: "ok", name: "connection", detail: `${transport.description}: reachable, host key known, authenticated` }];
  const queueDir = target.kind === "server" ? (target.queue_dir ?? DEFAULT_QUEUE_DIR) : "";
  const probe = await transport.script(readFileSync(remoteFile("doctor.sh"), "utf8"), [baseDir, pythonWanted, PIP_CONFIG_PY, REACH_PY, queueDir]);
  const all = [...checks, ...remoteChecks(target, pythonWanted, probe.stdout)];
  return { checks: all, exitCode: all.some((check) => check.status === "fail") ? EXIT.jobFailed : EXIT.ok };
}
