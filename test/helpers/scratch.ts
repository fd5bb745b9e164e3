// Throwaway local dirs for tests, removed at the latest when the test process exits, whatever the tests did
// (an early failure, a forgotten after()). A dir a test removes itself is simply gone by then.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";

const made = new Set<string>();

function removeAll(): void {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A read-only dir inside (a job's shipped tree): make it writable, then remove it.
      spawnSync("chmod", ["-R", "u+w", dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** A new dir named `prefix` + 6 random characters: under the OS temp dir, or at `prefix` when it is absolute. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(isAbsolute(prefix) ? prefix : join(tmpdir(), prefix));
  if (made.size === 0) process.on("exit", removeAll);
  made.add(dir);
  return dir;
}
