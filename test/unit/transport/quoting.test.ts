// Quoting edge cases: what `sh -c quoteArgv(argv)` receives must be argv, byte for byte.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { quote, quoteArgv } from "../../../src/util/shell.js";
import { awkwardArgs } from "./argv.js";

function echoedBySh(argv: readonly string[]): string[] {
  const out = spawnSync("sh", ["-c", `printf '%s\\0' ${quoteArgv(argv)}`], { encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.split("\0").slice(0, -1);
}

test("safe words stay bare, everything else is single-quoted", () => {
  assert.equal(quote("abc-1.2/x_y=z:@%+,"), "abc-1.2/x_y=z:@%+,");
  assert.equal(quote(""), "''");
  assert.equal(quote("a b"), "'a b'");
  assert.equal(quote("it's"), "'it'\\''s'");
  assert.equal(quote("-n"), "-n");
});

test("awkward arguments survive sh -c byte-identical", () => {
  const argv = awkwardArgs();
  assert.deepEqual(echoedBySh(argv), argv);
});

test("each awkward argument alone survives sh -c", () => {
  for (const arg of awkwardArgs()) assert.deepEqual(echoedBySh([arg]), [arg], JSON.stringify(arg));
});
