// Names that come back from a target (clean's reply, manifests) decide which paths slurmray removes or
// replaces. Every such name goes through here: a plain relative path that stays inside the dir it is
// joined to. No absolute path, no "." or ".." part, no NUL, not empty.

export function isSafeName(name: string): boolean {
  return name !== "" && !name.includes("\0") && !name.startsWith("/") && !name.split("/").some((part) => part === ".." || part === ".");
}
