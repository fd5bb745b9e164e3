import assert from "node:assert/strict";
import { test } from "node:test";
import { isSafeName } from "../../../src/util/names.js";

test("safe names: plain relative paths inside the dir, and nothing else", () => {
  for (const name of ["a.py", "pkg/m.py", ".hidden", "..dots", "a../b", "a/.b", "a/...", "x//y", "caf\udce9.py", "new\nline"]) {
    assert.equal(isSafeName(name), true, JSON.stringify(name));
  }
  for (const name of ["", "/etc/passwd", ".", "..", "../x", "a/..", "a/../b", "./a", "a/./b", "a/.", "nul\0byte"]) {
    assert.equal(isSafeName(name), false, JSON.stringify(name));
  }
});

test("property: the same verdict as checking every part, over 20,000 random names of / . a and NUL", () => {
  const byParts = (name: string) => name !== "" && !name.includes("\0") && !name.startsWith("/") && !name.split("/").some((p) => p === "." || p === "..");
  const alphabet = ["/", ".", "a", "\0"];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < 20_000; i++) {
    const name = Array.from({ length: next() % 9 }, () => alphabet[next() % alphabet.length]).join("");
    assert.equal(isSafeName(name), byParts(name), JSON.stringify(name));
  }
});
