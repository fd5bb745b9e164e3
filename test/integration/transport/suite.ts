// The behaviour every transport must have, written once and run against each (local, openssh, ssh2).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import type { TestContext } from "node:test";
import { after, before, describe, test } from "node:test";
import { downloadFiles, readRemoteFile, uploadFiles } from "../../../src/transport/files.js";
import { OpenSshTransport } from "../../../src/transport/openssh.js";
import { STDOUT_MAX } from "../../../src/transport/running.js";
import type { Transport } from "../../../src/transport/types.js";
import { RemoteCommandError } from "../../../src/util/errors.js";
import { scratchDir } from "../../helpers/scratch.js";
import { requireTestbed, type TestBed, testbed } from "../../helpers/testbed.js";
import { awkwardArgs, randomArgvs } from "../../unit/transport/argv.js";

const PRINT_ARGV = ["python3", "-c", "import sys,json;print(json.dumps(sys.argv[1:]))"];

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, path: "/hello.txt", timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

function sha256Tree(root: string, relPaths: readonly string[]): string {
  const hash = createHash("sha256");
  for (const rel of relPaths) hash.update(rel).update("\0").update(readFileSync(join(root, rel))).update("\0");
  return hash.digest("hex");
}

/**
 * Registers the shared suite. `open` returns a transport for the test bed (null when the transport needs
 * no bed, e.g. local). Without a needed bed each test skips, or fails in CI.
 */
export function transportSuite(name: string, open: (bed: TestBed | null) => Promise<Transport>, needsBed: boolean): void {
  describe(`${name} transport`, () => {
    let opened: Transport | undefined;
    let remoteTmp = "";
    const local = scratchDir("sr-tr-");
    const usable = (t: TestContext): Transport | undefined => (needsBed && !requireTestbed(t) ? undefined : opened);

    before(async () => {
      if (needsBed && !testbed()) return;
      const transport = await open(testbed());
      await transport.connect();
      opened = transport;
      const made = await transport.exec(["mktemp", "-d", "/tmp/sr-remote-XXXXXX"]);
      remoteTmp = made.stdout.trim();
    });
    after(async () => {
      if (opened && remoteTmp) await opened.exec(["rm", "-rf", remoteTmp]);
      if (opened instanceof OpenSshTransport) await opened.shutdown();
      else await opened?.close();
      rmSync(local, { recursive: true, force: true });
    });

    test("exec returns exit code, stdout and stderr", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const before = transport.commandCount;
      const result = await transport.exec(["sh", "-c", "echo out; echo err >&2; exit 7"]);
      assert.deepEqual(result, { code: 7, stdout: "out\n", stderr: "err\n" });
      assert.equal(transport.commandCount, before + 1);
    });

    test("a command printing 40 MB on stderr fails with its start and end kept, in bounded memory", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const script = 'echo FIRST >&2; head -c 40000000 /dev/zero | tr "\\0" x >&2; echo >&2; echo LAST >&2; exit 3';
      const r = await transport.exec(["sh", "-c", script]);
      assert.equal(r.code, 3);
      assert.ok(r.stderr.length < 1.2e6, `kept ${r.stderr.length} characters`);
      assert.ok(r.stderr.startsWith("FIRST\n"));
      assert.ok(r.stderr.endsWith("\nLAST\n"));
      assert.match(r.stderr, /\[… \d+ bytes of output left out …\]/);
    });

    test("a command printing without end on stdout is stopped past STDOUT_MAX with a clear error", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const started = Date.now();
      await assert.rejects(transport.exec(["sh", "-c", "cat /dev/zero; echo unreachable > /dev/null"]), (error: Error) => {
        assert.ok(error instanceof RemoteCommandError, String(error));
        assert.match(error.message, new RegExp(`printed more than ${STDOUT_MAX} bytes`));
        return true;
      });
      assert.ok(Date.now() - started < 60_000);
    });

    test("script runs on sh -s with positional arguments", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const result = await transport.script('printf "%s|" "$@"; echo "$#"', ["a b", "$x", ""]);
      assert.equal(result.stdout, "a b|$x||3\n");
    });

    test("awkward arguments arrive byte-identical", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const argv = awkwardArgs();
      const result = await transport.exec([...PRINT_ARGV, ...argv]);
      assert.deepEqual(JSON.parse(result.stdout), argv);
    });

    test("property: 60 random argv arrays arrive byte-identical", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const seed = Date.now() % 100000;
      for (const argv of randomArgvs(seed, 60)) {
        const result = await transport.exec([...PRINT_ARGV, ...argv]);
        assert.deepEqual(JSON.parse(result.stdout), argv, `seed ${seed}: ${JSON.stringify(argv)}`);
      }
    });

    test("stdin is delivered and a timeout fails with ConnectionError", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const echoed = await transport.exec(["cat"], { stdin: "line1\nline2" });
      assert.equal(echoed.stdout, "line1\nline2");
      await assert.rejects(transport.exec(["sleep", "30"], { timeoutMs: 300 }), { name: "ConnectionError" });
    });

    test("an aborted signal stops the command and rejects", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("stopped by the test")), 200);
      const started = Date.now();
      await assert.rejects(transport.exec(["sleep", "30"], { signal: controller.signal }), /stopped by the test/);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    });

    test("stream yields stdout lines as they come", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const handle = transport.stream(["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.1; done; exit 4"]);
      const lines: string[] = [];
      for await (const line of handle.lines) lines.push(line);
      assert.deepEqual(lines, ["line1", "line2", "line3"]);
      assert.equal((await handle.done).code, 4);
    });

    test("a script's stderr reaches the `stderr` option while it runs, and is still collected", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const sink = new PassThrough();
      const seen: Buffer[] = [];
      sink.on("data", (chunk: Buffer) => seen.push(chunk));
      // The script goes on only once its first line was seen here (it gives up with exit 3 after 5 s).
      const flag = `/tmp/sr-stderr-${process.pid}-${Date.now()}`;
      const script = 'echo one >&2; i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ -e "$1" ] || exit 3; echo two >&2; echo out';
      const running = transport.script(script, [flag], { stderr: sink });
      await new Promise((resolve) => sink.once("data", resolve));
      await transport.exec(["touch", flag]);
      const result = await running;
      await transport.exec(["rm", "-f", flag]);
      assert.deepEqual([result.code, result.stdout, result.stderr], [0, "out\n", "one\ntwo\n"]);
      assert.equal(Buffer.concat(seen).toString("utf8"), "one\ntwo\n");
    });

    test("a killed stream ends", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const handle = transport.stream(["sh", "-c", "echo first; exec sleep 30"]);
      const started = Date.now();
      for await (const line of handle.lines) {
        assert.equal(line, "first");
        handle.kill();
      }
      await handle.done.catch(() => {});
      assert.ok(Date.now() - started < 5000, "kill took too long");
    });

    test("1,000 files upload and download byte-identical", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const src = join(local, "src");
      const relPaths = Array.from({ length: 1000 }, (_, i) => `d${i % 10}/sub ${i % 3}/f'${i}$.bin`);
      relPaths.push("top level.txt", "ünï cödé.txt");
      for (const [i, rel] of relPaths.entries()) {
        mkdirSync(dirname(join(src, rel)), { recursive: true });
        writeFileSync(join(src, rel), createHash("sha256").update(String(i)).digest().subarray(0, 1 + (i % 32)));
      }
      const remote = `${remoteTmp}/up loaded`;
      await uploadFiles(transport, src, relPaths, remote);
      const count = await transport.exec(["sh", "-c", 'find "$1" -type f | wc -l', "sh", remote]);
      assert.equal(count.stdout.trim(), String(relPaths.length));
      const back = join(local, "back");
      await downloadFiles(transport, remote, relPaths, back);
      assert.equal(sha256Tree(back, relPaths), sha256Tree(src, relPaths));
    });

    test("readRemoteFile returns the bytes (none, a few, many chunks' worth), or null when missing", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const large = Buffer.alloc(3 << 20);
      for (let i = 0; i < large.length; i++) large[i] = (i * 7919) & 255;
      for (const bytes of [Buffer.alloc(0), Buffer.from([0, 1, 2, 255, 10, 13]), large]) {
        await transport.exec(["sh", "-c", 'cat > "$1"', "sh", `${remoteTmp}/bin`], { stdin: bytes });
        assert.ok((await readRemoteFile(transport, `${remoteTmp}/bin`))?.equals(bytes), `${bytes.length} bytes`);
      }
      assert.equal(await readRemoteFile(transport, `${remoteTmp}/missing`), null);
    });

    test("forward reaches an HTTP server on the target", async (t) => {
      const transport = usable(t);
      if (!transport) return;
      const dir = `${remoteTmp}/www`;
      const server = `import http.server,functools,socketserver,sys
h=functools.partial(http.server.SimpleHTTPRequestHandler,directory=sys.argv[1])
s=socketserver.TCPServer(("127.0.0.1",0),h)
print(s.server_address[1],flush=True)
s.serve_forever()`;
      await transport.exec(["sh", "-c", 'mkdir -p "$1" && echo hello-forward > "$1/hello.txt"', "sh", dir]);
      const started = await transport.exec([
        "sh",
        "-c",
        'python3 -c "$1" "$2" > "$2/port" 2>/dev/null & echo $!; for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$2/port" ] && break; sleep 0.2; done; cat "$2/port"',
        "sh",
        server,
        dir,
      ]);
      const [pid, port] = started.stdout.trim().split("\n");
      try {
        const forward = await transport.forward("127.0.0.1", Number(port));
        assert.equal((await httpGet(forward.localPort)).trim(), "hello-forward");
        await forward.close();
      } finally {
        await transport.exec(["kill", pid]);
      }
    });
  });
}
