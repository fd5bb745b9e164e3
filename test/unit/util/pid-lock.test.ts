// The lock between slurmray processes: a live holder holds it, a dead one does not, and a file that has no pid
// yet is a taker between making the file and writing its pid (taking it over then let two writers in at once).
import assert from "node:assert/strict";
import { existsSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { takePidLock, waitPidLock } from "../../../src/util/pid-lock.js";
import { scratchDir } from "../../helpers/scratch.js";

test("a lock file without a pid yet is held; one left so for seconds is taken over", () => {
  const dir = scratchDir("srlock-");
  try {
    const lock = join(dir, "x.lock");
    writeFileSync(lock, "");
    assert.throws(() => takePidLock(lock, "a retry"), /a retry is under way in another slurmray, starting now/);
    assert.throws(() => waitPidLock(lock, "the record", 50), /the record: the lock .* has been held for over 0.05 s/);
    const old = new Date(Date.now() - 10_000);
    utimesSync(lock, old, old);
    const release = waitPidLock(lock, "the record", 50);
    release();
    assert.equal(existsSync(lock), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a live holder's lock is waited for and refused; a dead holder's is taken", () => {
  const dir = scratchDir("srlock-");
  try {
    const lock = join(dir, "x.lock");
    writeFileSync(lock, `${process.pid}\n`);
    assert.throws(() => takePidLock(lock, "a retry"), new RegExp(`under way in another slurmray \\(pid ${process.pid}\\)`));
    assert.throws(() => waitPidLock(lock, "the record", 30), new RegExp(`held by pid ${process.pid} for over`));
    writeFileSync(lock, "2147483646\n");
    takePidLock(lock, "a retry")();
    assert.equal(existsSync(lock), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
