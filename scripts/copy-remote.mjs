// The remote/ files (runner.py, queue.py, templates) are shipped to targets as they are:
// copy them next to the compiled code so dist/ is self-contained.
import { cpSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const from = join(root, "src", "remote");
const to = join(root, "dist", "remote");
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) {
  if (!name.endsWith(".ts")) cpSync(join(from, name), join(to, name), { recursive: true });
}
