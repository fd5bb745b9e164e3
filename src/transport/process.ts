// A RunningCommand backed by a local child process (the local transport, and ssh mux clients).
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { collectBounded } from "../util/bounded-text.js";
import type { RunningCommand } from "./running.js";

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Turns an exit into an error (e.g. ssh's 255 = connection lost); null keeps the exit code. */
  failure?: (code: number, stderr: string) => Promise<Error | null>;
  /** Signal kill() sends to the process group (default SIGTERM). */
  killSignal?: NodeJS.Signals;
}

/** Exit code as a shell reports it: a signal N becomes 128 + N. */
function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? constants.signals[signal] : 0);
}

export function spawnCommand(file: string, args: readonly string[], options: SpawnOptions = {}): RunningCommand {
  // Its own process group, so kill() stops the whole command, not just the shell that started it.
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  const stderr = options.failure ? collectBounded(child.stderr) : () => "";
  let killed = false;
  const finished = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    // A killed ssh mux client's stdio fds live on in its master: stop reading rather than wait for them.
    child.on("exit", () => {
      if (!killed) return;
      child.stdout.destroy();
      child.stderr.destroy();
    });
    child.on("close", async (code, signal) => {
      const exit = exitCode(code, signal);
      const error = await options.failure?.(exit, stderr());
      if (error) reject(error);
      else resolve(exit);
    });
  });
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    finished,
    kill: () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      killed = true;
      try {
        process.kill(-child.pid, options.killSignal ?? "SIGTERM");
      } catch {
        // The group is already gone.
      }
    },
  };
}
