// Secrets are never shipped by accident: .env files, and files that set SLURMRAY_PASSWORD, unless config
// `files` names them; the user is told once.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, test } from "node:test";
import { localManifest } from "../../../src/codesync/manifest.js";
import { selectFiles } from "../../../src/codesync/select.js";
import { makeTree } from "../codesync/tree.js";

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function shipped(files: Record<string, string>, requested: string[] = []): Promise<{ paths: string[]; warnings: string[] }> {
  const root = makeTree(files);
  const cacheDir = makeTree({});
  roots.push(root, cacheDir);
  const selection = await selectFiles({ root, files: requested });
  const manifest = localManifest(root, selection, cacheDir);
  return { paths: manifest.map((e) => e.path), warnings: selection.warnings };
}

test(".env files are not shipped, and the user is told once", async () => {
  const r = await shipped({ "main.py": "x", ".env": "SLURMRAY_PASSWORD=hunter2\n", "sub/.env.local": "TOKEN=1\n" });
  assert.deepEqual(r.paths, ["main.py"]);
  assert.equal(r.warnings.length, 1, r.warnings.join("\n"));
  assert.match(r.warnings[0]!, /\.env, sub\/\.env\.local: not shipped.*`files`/);
});

test("a .env listed in `files` is shipped", async () => {
  const r = await shipped({ "main.py": "x", ".env": "MODE=prod\n" }, [".env"]);
  assert.deepEqual(r.paths, [".env", "main.py"]);
});

test("any file that sets SLURMRAY_PASSWORD is not shipped; mentions without a value are", async () => {
  const r = await shipped({
    "main.py": "import os\npw = os.environ['SLURMRAY_PASSWORD']\n",
    "secrets.sh": "export SLURMRAY_PASSWORD='s3cret'\n",
    "config.ini": "[a]\nSLURMRAY_PASSWORD = hunter2\n",
    "empty.sh": "SLURMRAY_PASSWORD=\n",
  });
  assert.deepEqual(r.paths, ["empty.sh", "main.py"]);
  assert.ok(r.warnings.some((w) => /config\.ini, secrets\.sh: not shipped, as it sets SLURMRAY_PASSWORD/.test(w)), r.warnings.join("\n"));
  const asked = await shipped({ "secrets.sh": "SLURMRAY_PASSWORD=x\n" }, ["secrets.sh"]);
  assert.deepEqual(asked.paths, ["secrets.sh"]);
});
