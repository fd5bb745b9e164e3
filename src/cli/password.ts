// Where a password or MFA answer comes from: SLURMRAY_PASSWORD (environment or .env), else a prompt on
// the terminal (drawn on stderr, so --json output stays clean). It is held in memory only, never written.
import type { PasswordProvider } from "../transport/askpass.js";
import { ConnectionError } from "../util/errors.js";
import { pauseSpinner } from "./progress.js";

export function passwordProvider(env: Record<string, string | undefined>): PasswordProvider | undefined {
  const fromEnv = env["SLURMRAY_PASSWORD"];
  if (fromEnv) return async () => fromEnv;
  if (!process.stdin.isTTY) return undefined;
  return async (prompt) => {
    // @clack/prompts loads only when a prompt is drawn.
    const { isCancel, password } = await import("@clack/prompts");
    pauseSpinner();
    const answer = await password({ message: prompt || "Password:", output: process.stderr });
    if (isCancel(answer)) throw new ConnectionError("authentication cancelled at the password prompt");
    return answer;
  };
}
