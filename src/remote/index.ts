// Paths of the files in this folder that are shipped to targets as they are (runner.py, …).
// The build copies them next to the compiled code, so the same relative URL works from src/ and dist/.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function remoteFile(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/** Content hash of the shipped runtime files: names <base_dir>/runtime/<hash>/ remotely. */
export function runtimeHash(names: readonly string[]): string {
  const hash = createHash("sha256");
  for (const name of names) hash.update(name).update("\0").update(readFileSync(remoteFile(name)));
  return hash.digest("hex").slice(0, 16);
}
