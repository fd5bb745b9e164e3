// Caches keyed by change times do not trust one within the clock's tick (src/util/racy.ts), and no test can
// set a change time back: a test that needs a cache kept waits out the tick instead.
import { statSync } from "node:fs";
import { racilyRecent } from "../../src/util/racy.js";

/** Waits until each path's change time is no longer racily recent: a cache may then vouch for it. */
export function settle(...paths: string[]): void {
  for (const path of paths) {
    while (racilyRecent(statSync(path).ctimeMs, Date.now())) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}
