// Names that come back from a target (clean's reply, manifests) decide which paths slurmray removes or
// replaces. Every such name goes through here: a plain relative path that stays inside the dir it is
// joined to. No absolute path, no "." or ".." part, no NUL, not empty.

const DOT_PART = /(?:^|\/)\.\.?(?:\/|$)/;

export function isSafeName(name: string): boolean {
  // One regex for the "." and ".." parts: called for every path of a 100,000-file cache, split() was the cost.
  return name !== "" && !name.includes("\0") && !name.startsWith("/") && !DOT_PART.test(name);
}
