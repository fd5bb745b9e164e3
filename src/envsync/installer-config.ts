// The site's pip configuration, handed to uv. pip reads pip.conf (global, user, site, PIP_CONFIG_FILE) and
// PIP_* variables; uv reads neither, so on a site whose index, proxy or CA is set up for pip only, uv fails
// where pip works. The apply script reads pip's configuration ON THE REMOTE, with the env's Python (its
// sys.prefix is pip's "site" level), translates it to uv's variables for uv's run only, and falls back to
// pip when uv still fails to trust the index or to go through the proxy.
import { quote } from "../util/shell.js";

/**
 * Python (3.8+, standard library) printing `export NAME=value` shell lines: pip's settings for `pip install`,
 * in pip's precedence (global < user < site < PIP_CONFIG_FILE < PIP_*; an [install] section over [global]),
 * as uv's variables. Variables uv already has in the environment win. When no CA is configured, uv is pointed
 * at the system bundle (SSL_CERT_FILE, honoured by every uv version), as pip's truststore would use it.
 * It runs before every install: it imports only os and sys at start (configparser only when a pip.conf exists,
 * _ssl rather than ssl, quoting by hand rather than shlex), which halves its ~22 ms.
 */
export const PIP_CONFIG_PY = String.raw`
import os, sys
E = os.environ
KEYS = ("index-url", "extra-index-url", "find-links", "trusted-host", "no-index", "cert", "client-cert", "proxy")

def files():
    named = E.get("PIP_CONFIG_FILE")
    if named == os.devnull:
        return []
    home = os.path.expanduser("~")
    found = [os.path.join(d, "pip", "pip.conf") for d in (E.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") if d]
    found.append("/etc/pip.conf")
    if not (named and os.path.exists(named)):
        found.append(os.path.join(home, ".pip", "pip.conf"))
        found.append(os.path.join(E.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "pip", "pip.conf"))
    found.append(os.path.join(sys.prefix, "pip.conf"))
    if named:
        found.append(named)
    return found

def settings():
    merged = {}
    found = [path for path in files() if os.path.isfile(path)]
    if found:
        import configparser
    for path in found:
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except (configparser.Error, UnicodeDecodeError):
            continue
        for section in parser.sections():
            for key, value in parser.items(section):
                merged[(section, key.lower().lstrip("-").replace("_", "-"))] = value
    values = {}
    for section in ("global", "install"):
        for (where, key), value in merged.items():
            if where == section and key in KEYS:
                values[key] = value
    for key in KEYS:
        value = E.get("PIP_" + key.upper().replace("-", "_"))
        if value is not None:
            values[key] = value
    return values

def system_bundle():
    import _ssl
    name, default = _ssl.get_default_verify_paths()[:2]  # what ssl.get_default_verify_paths().cafile reads
    for path in (E.get(name, default), "/etc/ssl/certs/ca-certificates.crt",
                 "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem"):
        if path and os.path.isfile(path):
            return path
    return None

def uv_has_config():
    home = os.path.expanduser("~")
    user = os.path.join(E.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "uv", "uv.toml")
    dirs = (E.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") + ["/etc"]
    return bool(E.get("UV_CONFIG_FILE")) or any(os.path.isfile(p) for p in [user] + [os.path.join(d, "uv", "uv.toml") for d in dirs if d])

def translate(v):
    out = {}
    if not uv_has_config():
        if v.get("index-url"):
            out["UV_INDEX_URL"] = v["index-url"].strip()
        if v.get("extra-index-url"):
            out["UV_EXTRA_INDEX_URL"] = " ".join(v["extra-index-url"].split())
        if v.get("find-links"):
            out["UV_FIND_LINKS"] = ",".join(v["find-links"].split())
        if v.get("trusted-host"):
            out["UV_INSECURE_HOST"] = " ".join(v["trusted-host"].split())
        if v.get("no-index", "").strip().lower() in ("1", "true", "yes", "on"):
            out["UV_NO_INDEX"] = "1"
    cert = (v.get("cert") or "").strip()
    if cert:
        out["SSL_CERT_DIR" if os.path.isdir(cert) else "SSL_CERT_FILE"] = cert
    elif not E.get("SSL_CERT_FILE") and not E.get("SSL_CERT_DIR") and system_bundle():
        out["SSL_CERT_FILE"] = system_bundle()
    if v.get("client-cert"):
        out["SSL_CLIENT_CERT"] = v["client-cert"].strip()
    if v.get("proxy"):
        out["HTTPS_PROXY"] = out["HTTP_PROXY"] = v["proxy"].strip()
    return out

for name, value in sorted(translate(settings()).items()):
    if not (name.startswith("UV_") and E.get(name)):
        sys.stdout.write("export %s='%s'\n" % (name, value.replace("'", "'\"'\"'")))
`;

/** Printed on stderr by the apply script when uv failed on the network or TLS and pip installed instead. */
export const PIP_FALLBACK_MARK = "@@slurmray:apply:pip-fallback@@";

// uv's reports of a failure pip may not share: trusting the index (a CA bundle or store uv cannot read), or
// going through the proxy. Not a refused connection or an unknown host: pip would ask the same host through the
// same proxy settings and only repeat the failure, after its own retries.
const UV_UNTRUSTED = "invalid peer certificate|certificate verify failed|UnknownIssuer|tls handshake|No valid certificates|proxy error|tunnel";

/** Shell: `eval`s the site's pip configuration as uv variables into the current (sub)shell, using `python`. */
export function loadSiteConfig(python: string): string {
  return `sr_cfg=$(${python} -I -c ${quote(PIP_CONFIG_PY)} 2>/dev/null) && eval "$sr_cfg"`;
}

/**
 * Shell: defines `sr_uv_install ARGS...`, which runs `$sr_uv pip install --python $sr_env/bin/python ARGS`
 * with the site's pip configuration, and, when uv fails to trust the index or to use the proxy, prints PIP_FALLBACK_MARK
 * and installs ARGS with the env's pip instead (bootstrapped by ensurepip in an env uv made without pip).
 */
export function siteInstallerFunction(): string {
  const python = '"$sr_env/bin/python"';
  return `sr_uv_install() {
  sr_log="$sr_env/.slurmray-install.log"
  # uv's lines go out as they come (the progress display reads them) and to the log; its exit code comes on fd 3.
  { sr_rc=$( { { ( ${loadSiteConfig(python)}; exec "$sr_uv" pip install --python ${python} "$@" ) 2>&1 3>&- 4>&-; echo "$?" >&3; } | tee "$sr_log" 1>&4 4>&-; } 3>&1 ); } 4>&1
  sr_rc=\${sr_rc:-1}
  if [ "$sr_rc" -ne 0 ] && grep -q -i -E ${quote(UV_UNTRUSTED)} "$sr_log"; then
    rm -f "$sr_log"
    echo ${quote(PIP_FALLBACK_MARK)} 1>&2
    ${python} -m pip --version >/dev/null 2>&1 || ${python} -m ensurepip 1>&2 || return 1
    PYTHONUNBUFFERED=1 ${python} -m pip install --disable-pip-version-check --no-input "$@"
    return
  fi
  rm -f "$sr_log"
  return "$sr_rc"
}`;
}

/** The warning `run` and `env sync` print once when an install fell back to pip. */
export function pipFallbackWarning(stderr: string, envDir: string): string | null {
  if (!stderr.includes(PIP_FALLBACK_MARK)) return null;
  return (
    `uv could not reach or trust the package index from the target, so pip installed into ${envDir} instead ` +
    "(slower). uv was given the site's pip configuration (index, cert, proxy); to let uv work, point pip's cert " +
    "(pip.conf `cert`, or PIP_CERT) at a PEM bundle holding the site's CA on the target"
  );
}
