// The hermetic wheel index (wheel-index.ts) served over HTTPS on loopback, with a certificate signed by a
// private CA made here with openssl: nothing on the machine trusts it unless told to. For the tests of a site
// whose index or CA is configured for pip only. Stopped by PID.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { freeLocalPort, OpenSshTransport } from "../../src/transport/openssh.js";
import type { Transport } from "../../src/transport/types.js";
import { quote } from "../../src/util/shell.js";
import { scratchDir } from "./scratch.js";
import type { TestBed } from "./testbed.js";
import { stopper, wheelIndex } from "./wheel-index.js";

export interface TlsIndex {
  /** https://127.0.0.1:PORT/simple/ */
  url: string;
  /** The private CA, PEM ("BEGIN CERTIFICATE"). */
  caPem: string;
  /** The same CA in OpenSSL's trusted-certificate format ("BEGIN TRUSTED CERTIFICATE"), as in RHEL's
   * ca-bundle.trust.crt: Python's ssl (so pip) reads it, uv (rustls) does not. */
  caTrustedPem: string;
  stop(): Promise<void>;
}

const SERVE = `
import functools, http.server, ssl, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
handler.log_message = lambda *args: None
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[3])
server.socket = context.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
`;

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore", timeout: 30_000 });
}

function makeCertificates(dir: string): void {
  openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=slurmray test CA");
  openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf");
  openssl(dir, "x509", "-in", "ca.pem", "-addtrust", "serverAuth", "-out", "ca-trusted.pem");
  writeFileSync(join(dir, "server-full.pem"), readFileSync(join(dir, "server.pem"), "utf8") + readFileSync(join(dir, "server.key"), "utf8"));
}

/** Starts the HTTPS index (building the wheels if this process has not yet). Call stop() in an `after` hook. */
export async function tlsIndex(): Promise<TlsIndex> {
  const wheels = await wheelIndex();
  const dir = scratchDir("sr-tls-");
  makeCertificates(dir);
  const port = await freeLocalPort();
  // Below the plain index's random path (see wheel-index.ts): no two runs share an index URL.
  const child = spawn("python3", ["-c", SERVE, dirname(wheels.dir), String(port), join(dir, "server-full.pem")], { stdio: ["ignore", "pipe", "ignore"] });
  // The plain index was started only to build the wheels: it goes with this one, or it keeps the process alive.
  const stopTls = stopper(child, dir);
  const stop = async (): Promise<void> => {
    await stopTls();
    await wheels.stop();
  };
  const ready = await new Promise<boolean>((resolve) => {
    const settle = (value: boolean): void => {
      clearTimeout(timer);
      resolve(value);
    };
    const timer = setTimeout(() => settle(false), 10_000);
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      if (text.includes("ready")) settle(true);
    });
    child.once("exit", () => settle(false));
  });
  if (!ready) {
    await stop();
    throw new Error("the HTTPS wheel index did not come up within 10 s");
  }
  return {
    url: `https://127.0.0.1:${port}/${basename(wheels.dir)}/simple/`,
    caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
    caTrustedPem: readFileSync(join(dir, "ca-trusted.pem"), "utf8"),
    stop,
  };
}

const PIP_CONF = ".config/pip/pip.conf";

/** The bed user's own pip configuration (~/.config/pip/pip.conf), written over `transport` by a test. */
export interface UserPipConf {
  /** Writes `bundle` to `bundleFile` and a pip.conf whose [global] section holds `lines` (with `cert`). */
  write(lines: string[], bundle: string, bundleFile: string): Promise<void>;
  /** Removes what write() made. */
  remove(): Promise<void>;
}

/** Refuses (throws) when the user already has a pip.conf: a test never overwrites one. */
export async function userPipConf(transport: Transport): Promise<UserPipConf> {
  const existing = await transport.script(`test -e "$HOME"/${PIP_CONF}`);
  if (existing.code === 0) throw new Error(`the bed user already has ~/${PIP_CONF}; this test will not overwrite it`);
  let written = false;
  return {
    async write(lines, bundle, bundleFile) {
      const conf = `[global]\n${lines.join("\n")}\ncert = ${bundleFile}\n`;
      written = true;
      const result = await transport.script(
        `printf '%s' ${quote(bundle)} > ${quote(bundleFile)} && mkdir -p "$HOME/.config/pip" && printf '%s' ${quote(conf)} > "$HOME"/${PIP_CONF}`,
      );
      if (result.code !== 0) throw new Error(`writing ~/${PIP_CONF} failed: ${result.stderr}`);
    },
    async remove() {
      if (written) await transport.script(`rm -f "$HOME"/${PIP_CONF}; rmdir "$HOME/.config/pip" "$HOME/.config" 2>/dev/null; true`);
    },
  };
}

/** The HTTPS index, and the bed's second user (whose pip.conf the tests write) with a scratch folder. */
export interface PipSite {
  index: TlsIndex;
  transport: OpenSshTransport;
  /** Remote scratch folder, removed by close(). */
  base: string;
  close(): Promise<void>;
}

export async function pipSite(tb: TestBed, scratchPrefix: string): Promise<PipSite> {
  const index = await tlsIndex();
  const transport = new OpenSshTransport({ host: "srtb2", sshConfigFile: tb.sshConfig, controlDir: scratchDir("/tmp/srtbc-") });
  await transport.connect();
  const base = (await transport.exec(["mktemp", "-d", `${scratchPrefix}XXXXXX`])).stdout.trim();
  return {
    index,
    transport,
    base,
    async close() {
      await transport.exec(["rm", "-rf", base]);
      await transport.shutdown();
      await index.stop();
    },
  };
}
