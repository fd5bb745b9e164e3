// After tsc: copy the remote/ files (runner.py, …, shipped to targets as they are) next to the compiled
// code so dist/ is self-contained, and make the bin executable (tsc does not, and `npx slurmray` in a
// clone built without npm's bin linking would get "Permission denied").
import { chmodSync, cpSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const from = join(root, "src", "remote");
const to = join(root, "dist", "remote");
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) {
  if (!name.endsWith(".ts")) cpSync(join(from, name), join(to, name), { recursive: true });
}
chmodSync(join(root, "dist", "cli", "main.js"), 0o755);
