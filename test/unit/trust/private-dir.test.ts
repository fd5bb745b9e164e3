// The fallback control dir (/tmp/slurmray-<uid>/cm): a parent pre-created by another user is refused even
// though the dir slurmray makes inside it would be its own.
import assert from "node:assert/strict";
import { chownSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { ConnectionError } from "../../../src/util/errors.js";
import { privateDir } from "../../../src/util/private-dir.js";
import { scratchDir } from "../../helpers/scratch.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const dir = scratchDir("sr-private-");
  dirs.push(dir);
  return dir;
}

test("a top dir owned by someone else is refused, though the dir made inside it is ours", (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root to give a dir to another user");
  const top = scratch();
  chownSync(top, 65534, 65534);
  assert.throws(() => privateDir(join(top, "cm"), top), (error: unknown) => error instanceof ConnectionError && /owned by uid 65534/.test(error.message));
});

test("a symlink in place of the dir is refused", () => {
  const top = scratch();
  symlinkSync(scratch(), join(top, "cm"));
  assert.throws(() => privateDir(join(top, "cm"), join(top, "cm")), /is not a plain directory/);
});

test("our own dir is made 0700", () => {
  const top = scratch();
  const dir = privateDir(join(top, "a", "cm"), top);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
});
