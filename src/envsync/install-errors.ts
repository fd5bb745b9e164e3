// Turns an installer's stderr (uv or pip) into an error a researcher can act on: which package could not be
// installed and how to leave it out, or that the remote disk is full, or that the index cannot be reached.
import { EnvSyncError } from "./errors.js";
import { normalizeName } from "./requirements/names.js";

export const DISK = /No space left on device|Errno 28|Disk quota exceeded/i;
export const NETWORK =
  /Connection refused|Connection reset|Temporary failure in name resolution|Name or service not known|Network is unreachable|NewConnectionError|ConnectTimeout|Max retries exceeded|error sending request|operation timed out/i;
// A TLS failure: the index's certificate is signed by a CA the installer does not trust.
export const TLS = /invalid peer certificate|UnknownIssuer|CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSLError|SSLCertVerificationError/i;
// Where an installer's report of the failure starts: what comes before is progress.
const ERROR_START = /^\s*(ERROR:|error:|×|╰─▶|Because )/m;

function mentions(text: string, name: string): boolean {
  const pattern = normalizeName(name).split("-").join("[-_.]");
  return new RegExp(`(^|[^A-Za-z0-9._-])${pattern}($|[^A-Za-z0-9_-]|\\.[^A-Za-z0-9])`, "im").test(text);
}

/** The planned packages the installer blamed: named in its error report, else the last one it was collecting. */
export function blamedPackages(stderr: string, planned: readonly string[]): string[] {
  const start = stderr.search(ERROR_START);
  const report = start < 0 ? stderr : stderr.slice(start);
  const named = planned.filter((name) => mentions(report, name));
  if (named.length > 0) return named;
  const collecting = [...stderr.matchAll(/^Collecting ([A-Za-z0-9._-]+)/gm)].map((m) => normalizeName(m[1]!));
  const last = collecting.at(-1);
  return last && planned.some((name) => normalizeName(name) === last) ? [last] : [];
}

function tail(stderr: string): string {
  return stderr.trim().split("\n").slice(-15).join("\n");
}

/**
 * The error for a failed install of `planned` (PEP 503 names) into `envDir`; `requirementsFile` is the file
 * the snapshot was read from (config `requirements`), when it was.
 */
export function installFailure(stderr: string, planned: readonly string[], envDir: string, requirementsFile?: string): EnvSyncError {
  if (DISK.test(stderr)) {
    return new EnvSyncError(
      "disk",
      `The remote disk is full (no space left) while installing into ${envDir}. Free space on the target ` +
        `(for example with \`slurmray clean\`) and run again; the env will be repaired.\n${tail(stderr)}`,
      stderr,
    );
  }
  if (TLS.test(stderr)) {
    return new EnvSyncError(
      "network",
      `The remote does not trust the package index's TLS certificate while installing into ${envDir}. On the ` +
        "target, point pip at a PEM bundle holding the site's CA: `cert = /path/to/ca-bundle.pem` under [global] " +
        "in ~/.config/pip/pip.conf (or /etc/pip.conf, or PIP_CERT in your login environment); slurmray gives " +
        `pip's configuration to uv too. \`slurmray doctor\` checks it.\n${tail(stderr)}`,
      stderr,
    );
  }
  if (NETWORK.test(stderr)) {
    return new EnvSyncError(
      "network",
      `The remote could not reach the package index while installing into ${envDir}. On the target, set ` +
        "the proxy or an index it can reach in pip's configuration: `proxy = http://host:port` or " +
        "`index-url = https://mirror/simple` under [global] in ~/.config/pip/pip.conf (or PIP_PROXY / " +
        `PIP_INDEX_URL in your login environment); slurmray gives pip's configuration to uv too. \`slurmray doctor\` checks it.\n${tail(stderr)}`,
      stderr,
    );
  }
  const blamed = blamedPackages(stderr, planned);
  if (blamed.length === 0) {
    return new EnvSyncError("other", `Installing packages into ${envDir} failed:\n${tail(stderr)}`, stderr);
  }
  const list = blamed.map((name) => `"${name}"`).join(", ");
  const them = blamed.length === 1 ? "it" : "them";
  const instead = requirementsFile
    ? `remove ${them} from ${requirementsFile}, or leave ${them} out in slurmray.toml`
    : `leave ${them} out in slurmray.toml, or list what the job needs in a requirements file (requirements = "requirements.txt" under [project])`;
  return new EnvSyncError(
    "package",
    `${blamed.length === 1 ? "Package" : "Packages"} ${list} could not be installed on the remote ` +
      `(into ${envDir}). If the job does not need ${them} there (for example a package for another platform, ` +
      `or one conda installed that the package index lacks), ${instead}:\n` +
      `  [project]\n  exclude = [${list}]\n\nInstaller output:\n${tail(stderr)}`,
    stderr,
    blamed,
  );
}
