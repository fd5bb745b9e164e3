// Arguments that break naive shell quoting, and a seeded generator of random ones (for property tests).

/** A fixed list of arguments that naive quoting gets wrong. */
export function awkwardArgs(): string[] {
  return [
    "",
    " ",
    "a b",
    "'",
    "''",
    '"',
    "\\",
    "\\'",
    "it's \"quoted\"",
    "$(id)",
    "`id`",
    "$HOME",
    "$" + "{HOME}",
    "*",
    "?",
    "[a-z]",
    "~",
    "~root",
    "a\nb",
    "\n",
    "tab\there",
    "-n",
    "--",
    "-e",
    "é ü 中文 🎉",
    "; rm -rf /tmp/nothing",
    "a|b&c>d<e",
    "!bang",
    "#comment",
    "%s",
  ];
}

const ALPHABET = [..."ab Z09-_/.'\"\\$()`*?[]{}~!#&|;<>=%@,:\t\n", "é", "中", "🎉", "\r"];

/** Mulberry32: a tiny seeded PRNG, so a failing case can be reproduced from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` random argv arrays of 0..7 arguments of 0..11 characters each, drawn from shell-hostile characters. */
export function randomArgvs(seed: number, count: number): string[][] {
  const next = prng(seed);
  const int = (n: number) => Math.floor(next() * n);
  return Array.from({ length: count }, () =>
    Array.from({ length: int(8) }, () => Array.from({ length: int(12) }, () => ALPHABET[int(ALPHABET.length)]).join("")),
  );
}
