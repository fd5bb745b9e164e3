// The loopback HTTP proxy in front of a dashboard forward: it adds the job's Ray token, which a TCP forward
// cannot do, and serves only the browser that opened the URL it printed. Loaded when a dashboard opens.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, request, type Server, type ServerResponse } from "node:http";

export interface Upstream {
  host: string;
  port: number;
}

/** Ray's dashboard sets its token in this cookie when asked to (/api/authenticate): it stays out of the browser. */
const RAY_TOKEN_COOKIE = "ray-authentication-token";

/** The query parameter of the printed URL that carries the proxy's key. */
const KEY_PARAM = "slurmray";

function sameSecret(given: string, key: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Lets through only the browser that opened the printed URL: the URL carries a random key once, answered with
 * a cookie holding it. The proxy holds the job's token, so another user of this machine must not be able to use
 * it just by reaching its loopback port. Returns the request's cookies less ours, or null when it was answered.
 */
function admit(incoming: IncomingMessage, outgoing: ServerResponse, key: string): string[] | null {
  const cookieName = `slurmray_${incoming.socket.localPort}`; // cookies are per host, not per port
  const url = new URL(incoming.url ?? "/", "http://127.0.0.1");
  const cookies = (incoming.headers.cookie ?? "").split(";").map((cookie) => cookie.trim()).filter(Boolean);
  const ours = cookies.find((cookie) => cookie.startsWith(`${cookieName}=`));
  if (sameSecret(url.searchParams.get(KEY_PARAM) ?? "", key)) {
    url.searchParams.delete(KEY_PARAM);
    const cookie = `${cookieName}=${key}; HttpOnly; SameSite=Strict; Path=/`;
    outgoing.writeHead(303, { location: `${url.pathname}${url.search}`, "set-cookie": cookie }).end();
    return null;
  }
  if (!ours || !sameSecret(ours.slice(cookieName.length + 1), key)) {
    outgoing.writeHead(403, { "content-type": "text/plain" }).end("slurmray: open the dashboard through the URL slurmray printed\n");
    return null;
  }
  return cookies.filter((cookie) => cookie !== ours);
}

/**
 * A loopback HTTP proxy to `upstream` that adds `Authorization: Bearer <token>` to every request, for the
 * browser that opens `url` only.
 */
export async function startProxy(upstream: Upstream, token: string | null): Promise<{ server: Server; url: string }> {
  const key = randomBytes(24).toString("hex");
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const cookies = admit(incoming, outgoing, key);
    if (!cookies) return;
    const headers: OutgoingHttpHeaders = { ...incoming.headers, host: `${upstream.host}:${upstream.port}` };
    delete headers.cookie;
    delete headers.authorization;
    if (cookies.length > 0) headers.cookie = cookies.join("; ");
    if (token) headers.authorization = `Bearer ${token}`;
    const forwarded = request({ ...upstream, method: incoming.method, path: incoming.url, headers }, (answer) => {
      const answerHeaders = { ...answer.headers };
      const cookies = answerHeaders["set-cookie"]?.filter((cookie) => !cookie.startsWith(`${RAY_TOKEN_COOKIE}=`)) ?? [];
      if (cookies.length > 0) answerHeaders["set-cookie"] = cookies;
      else delete answerHeaders["set-cookie"];
      outgoing.writeHead(answer.statusCode ?? 502, answerHeaders);
      answer.pipe(outgoing);
    });
    forwarded.on("error", (error) => {
      if (!outgoing.headersSent) outgoing.writeHead(502, { "content-type": "text/plain" });
      outgoing.end(`slurmray: the job's Ray dashboard did not answer (${error.message}); it may still be starting\n`);
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/?${KEY_PARAM}=${key}` };
}
