// Answering ssh's password / MFA prompts without the secret ever touching argv, a file or a log:
// ssh runs a tiny askpass program (SSH_ASKPASS, forced), which asks THIS process over a Unix socket in a
// 0700 directory; the reply travels only through the socket and the askpass program's stdout pipe to ssh.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";

/** Returns the secret for one prompt ("srtest@host's password:", "Verification code:"). */
export type PasswordProvider = (prompt: string) => Promise<string>;

const SOCKET_ENV = "SLURMRAY_ASKPASS_SOCKET";

function helperSource(): string {
  return `#!${process.execPath}
// slurmray askpass: forwards ssh's prompt to the slurmray process that started ssh and prints its answer.
import { connect } from "node:net";
const socket = connect(process.env.${SOCKET_ENV});
let answer = "";
socket.on("data", (chunk) => (answer += chunk));
socket.on("end", () => {
  if (!answer) process.exit(1);
  process.stdout.write(answer + "\\n");
});
socket.on("error", () => process.exit(1));
socket.end(process.argv[2] ?? "");
`;
}

/** Writes (once per content) the askpass program into dir and returns its path. */
function installHelper(dir: string): string {
  const path = join(dir, "askpass.mjs");
  const source = helperSource();
  if (existsSync(path) && readFileSync(path, "utf8") === source) return path;
  const temp = `${path}.${randomBytes(4).toString("hex")}`;
  writeFileSync(temp, source, { mode: 0o700 });
  chmodSync(temp, 0o700);
  renameSync(temp, path);
  return path;
}

export interface AskpassSession {
  /** Environment variables to give the ssh process. */
  env: NodeJS.ProcessEnv;
  /**
   * Aborted when ssh asks again for a secret it was already given (the password, or the same prompt): the
   * answer was refused, and the connection attempt should stop rather than offer it again.
   */
  refused: AbortSignal;
  close(): Promise<void>;
}

/** Prompts for one secret: every password prompt (keyboard-interactive or password method) is the same one. */
function secretKind(prompt: string): string {
  return /password/i.test(prompt) ? "password" : prompt;
}

/** Serves prompts from `provider` until closed. dir must be private (0700). */
export async function startAskpass(dir: string, provider: PasswordProvider): Promise<AskpassSession> {
  const socketPath = join(dir, `ap-${randomBytes(4).toString("hex")}.sock`);
  const refused = new AbortController();
  const answered = new Set<string>();
  // allowHalfOpen: the askpass program ends its side after sending the prompt, then waits for the answer.
  const server: Server = createServer({ allowHalfOpen: true }, (conn) => {
    let prompt = "";
    conn.on("data", (chunk) => (prompt += chunk));
    conn.on("error", () => {});
    conn.on("end", () => {
      const kind = secretKind(prompt.trim());
      if (answered.has(kind)) {
        refused.abort();
        conn.end();
        return;
      }
      answered.add(kind);
      provider(prompt.trim()).then(
        (secret) => conn.end(secret),
        () => conn.end(),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  chmodSync(socketPath, 0o600);
  return {
    env: {
      SSH_ASKPASS: installHelper(dir),
      SSH_ASKPASS_REQUIRE: "force",
      DISPLAY: process.env.DISPLAY ?? ":0",
      [SOCKET_ENV]: socketPath,
    },
    refused: refused.signal,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(socketPath, { force: true });
      }),
  };
}
