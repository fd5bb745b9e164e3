// The hermetic wheel index (wheel-index.ts) served over HTTPS on loopback, with a certificate signed by a
// private CA made here with openssl: nothing on the machine trusts it unless told to. For the tests of a site
// whose index or CA is configured for pip only. Stopped by PID.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeLocalPort } from "../../src/transport/openssh.js";
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

const SERVE = String.raw`
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
  const dir = mkdtempSync(join(tmpdir(), "sr-tls-"));
  makeCertificates(dir);
  const port = await freeLocalPort();
  const child = spawn("python3", ["-c", SERVE, wheels.dir, String(port), join(dir, "server-full.pem")], { stdio: ["ignore", "pipe", "ignore"] });
  const stop = stopper(child, dir);
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    child.stdout!.setEncoding("utf8").on("data", (text: string) => text.includes("ready") && (clearTimeout(timer), resolve(true)));
    child.once("exit", () => (clearTimeout(timer), resolve(false)));
  });
  if (!ready) {
    await stop();
    throw new Error("the HTTPS wheel index did not come up within 10 s");
  }
  return {
    url: `https://127.0.0.1:${port}/simple/`,
    caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
    caTrustedPem: readFileSync(join(dir, "ca-trusted.pem"), "utf8"),
    stop,
  };
}
