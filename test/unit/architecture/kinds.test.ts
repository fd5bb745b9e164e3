// The backend seam of docs/architecture.md, enforced: the layers above backends/ never name a target kind (they
// ask backends/registry.ts), and "is this target remote" has one answer, config/target.ts's isRemoteTarget.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { TARGET_KINDS } from "../../../src/model/job.js";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../../src");

/** The folders that must never name a kind. */
const KIND_FREE = ["jobs", "doctor", "cli", "api"];

/**
 * Files there that may: `slurmray init`'s slurmray.toml template shows each kind to the user. (The kinds are
 * listed in config/schema.ts, model/job.ts and backends/registry.ts, outside these folders.)
 */
const MAY_NAME_KINDS = new Set(["cli/commands/init.ts"]);

/** The one place allowed to test for a host key. */
const REMOTE_PREDICATE = "config/target.ts";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith(".ts") ? [path] : [];
  });
}

const KIND_LITERAL = new RegExp(`(["'\`])(?:${TARGET_KINDS.join("|")})\\1`, "g");
const HOST_IN = /(["'])host\1\s+in\b/g;

/** Each line of `text` with a kind literal or a host-key test, as "file:line: code". */
function findings(file: string, text: string, pattern: RegExp): string[] {
  return text.split("\n").flatMap((line, i) => (line.match(pattern) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
}

function kindLiterals(files: readonly { file: string; text: string }[]): string[] {
  return files.filter(({ file }) => KIND_FREE.includes(file.split("/")[0]!) && !MAY_NAME_KINDS.has(file)).flatMap(({ file, text }) => findings(file, text, KIND_LITERAL));
}

function hostTests(files: readonly { file: string; text: string }[]): string[] {
  return files.filter(({ file }) => file !== REMOTE_PREDICATE).flatMap(({ file, text }) => findings(file, text, HOST_IN));
}

const SOURCES = sources(SRC).map((path) => ({ file: relative(SRC, path), text: readFileSync(path, "utf8") }));

test("jobs/, doctor/, cli/ and api/ never name a target kind: they go through backends/registry.ts", () => {
  assert.deepEqual(kindLiterals(SOURCES), []);
});

test('only isRemoteTarget tests a target for "host"', () => {
  assert.deepEqual(hostTests(SOURCES), []);
});

test("a kind in a comparison, a list or a type is caught; the word in a message or another folder is not", () => {
  const files = [
    { file: "doctor/checks.ts", text: 'if (target.kind === "slurm") x();\nconst message = "use a slurm target";' },
    { file: "jobs/registry.ts", text: "kind: oneOf(['server', `local`]),\ntype K = \"local\";" },
    { file: "cli/commands/init.ts", text: 'kind = "local"' },
    { file: "backends/registry.ts", text: 'const k = "slurm";' },
  ];
  assert.deepEqual(kindLiterals(files), [
    'doctor/checks.ts:1: if (target.kind === "slurm") x();',
    "jobs/registry.ts:1: kind: oneOf(['server', `local`]),",
    'jobs/registry.ts:2: type K = "local";',
  ]);
  const remote = [
    { file: "jobs/connect.ts", text: 'if (!("host" in target)) return local;' },
    { file: "config/target.ts", text: 'return "host" in target;' },
  ];
  assert.deepEqual(hostTests(remote), ['jobs/connect.ts:1: if (!("host" in target)) return local;']);
});
