// A pseudo-terminal for the live view's tests: tmux, on a server of the test's own.
import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CLI } from "../../helpers/cli.js";
import { scratchDir } from "../../helpers/scratch.js";

export function hasTmux(): boolean {
  return spawnSync("tmux", ["-V"]).status === 0;
}

/** A tmux server of our own (its socket in a temp dir of ours), one window running the CLI at a fixed size. */
export class Terminal {
  readonly #dir = scratchDir("srview-");
  readonly #socket = join(this.#dir, "tmux");

  constructor(cwd: string, args: string[]) {
    const command = `${process.execPath} ${CLI} ${args.join(" ")}; echo "EXITED $?"; sleep 60`;
    this.#tmux("new-session", "-d", "-s", "v", "-x", "150", "-y", "30", "-c", cwd, command);
  }

  #tmux(...args: string[]): string {
    return execFileSync("tmux", ["-S", this.#socket, ...args], { encoding: "utf8" });
  }

  screen(): string {
    return this.#tmux("capture-pane", "-p", "-J", "-t", "v"); // -J: a wrapped line comes back whole
  }

  press(...keys: string[]): void {
    this.#tmux("send-keys", "-t", "v", ...keys);
  }

  async waitFor(pattern: RegExp, seconds = 30): Promise<string> {
    for (let i = 0; i < seconds * 10; i++) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      await sleep(100);
    }
    throw new Error(`the screen never showed ${pattern}:\n${this.screen()}`);
  }

  close(): void {
    spawnSync("tmux", ["-S", this.#socket, "kill-server"]);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
