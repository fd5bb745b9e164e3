// Loads the configuration: slurmray.toml (validated), .env at the project root, SLURMRAY_* variables.
// Flags are applied later by resolveTarget/resolveResources, so every layer can be tested alone.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseEnv } from "node:util";
import { parse as parseToml, TomlError } from "smol-toml";
import { ConfigError } from "../util/errors.js";
import type { ConfigFile, ProjectConfig, TargetConfig } from "./schema.js";

// zod costs ~100 ms at start, on every command. A slurmray.toml is validated once; the digest of its text and
// of the schema's source is then kept in .slurmray/cache/config-valid, and while both are unchanged the parsed
// TOML is used as it is (the schema has no defaults or transforms: a valid file's parse IS its validated value).
// The schema is loaded synchronously (require of an ES module, Node >= 20.19) only when a file must be validated.
// Not zod/mini: it loads zod/v4/core, which costs the same here. Not a bundled build: zod would still be
// evaluated at every start, and the build would depart from DESIGN.md's plain tsc output.
const require = createRequire(import.meta.url);

export const CONFIG_FILE = "slurmray.toml";

export interface LoadedConfig {
  /** The project root: the folder holding slurmray.toml, else the git root, else the working directory. */
  root: string;
  /** Path of slurmray.toml, or null when running on the embedded defaults. */
  file: string | null;
  projectName: string;
  project: ProjectConfig;
  targets: Record<string, TargetConfig>;
  defaultTarget: string;
  /** process environment overlaid on .env (the process wins). */
  env: Record<string, string | undefined>;
}

function findUp(start: string, name: string): string | null {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, name))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export function findProjectRoot(cwd: string): string {
  return findUp(cwd, CONFIG_FILE) ?? findUp(cwd, ".git") ?? resolve(cwd);
}

function parseTomlText(text: string, file: string): unknown {
  try {
    return parseToml(text);
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : "";
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ConfigError("", `${file}: not valid TOML${where}: ${reason}`);
  }
}

export function parseConfigText(text: string, file: string): ConfigFile {
  const raw = parseTomlText(text, file);
  const { configFileSchema } = require("./schema.js") as typeof import("./schema.js");
  const { formatIssues } = require("./errors.js") as typeof import("./errors.js");
  const result = configFileSchema.safeParse(raw);
  if (!result.success) {
    const lines = formatIssues(result.error.issues, raw);
    throw new ConfigError("", `${file}: ${lines.length === 1 ? lines[0] : `\n  ${lines.join("\n  ")}`}`);
  }
  return result.data;
}

function validationDigest(text: string): string {
  return createHash("sha256").update(readFileSync(require.resolve("./schema.js"))).update("\0").update(text).digest("hex");
}

/** The file's config: from the validation cache when this exact text passed this exact schema, else validated. */
function readConfigFile(root: string, path: string): ConfigFile {
  const text = readFileSync(path, "utf8");
  const stamp = join(root, ".slurmray", "cache", "config-valid");
  const digest = validationDigest(text);
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return parseTomlText(text, CONFIG_FILE) as ConfigFile;
  const config = parseConfigText(text, CONFIG_FILE);
  try {
    mkdirSync(dirname(stamp), { recursive: true });
    writeFileSync(stamp, digest);
  } catch {
    // A read-only project still works; it validates on every command.
  }
  return config;
}

function readDotEnv(root: string): Record<string, string> {
  const path = join(root, ".env");
  if (!existsSync(path) || !statSync(path).isFile()) return {};
  return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
}

export function loadConfig(cwd: string = process.cwd(), processEnv: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const root = findProjectRoot(cwd);
  const path = join(root, CONFIG_FILE);
  const file = existsSync(path) ? path : null;
  const config = file ? readConfigFile(root, file) : {};
  const env = { ...readDotEnv(root), ...processEnv };
  const project = config.project ?? {};
  const targets = config.targets ?? {};
  const defaultTarget = project.default_target ?? "local";
  if (defaultTarget !== "local" && !(defaultTarget in targets)) {
    throw new ConfigError("project.default_target", `no target named ${JSON.stringify(defaultTarget)}; ${describeTargets(targets)}`);
  }
  return { root, file, projectName: project.name ?? projectId(root), project, targets, defaultTarget, env };
}

/**
 * The project's remote name when the config sets none: the folder's name plus a hash of this host and the
 * absolute root, so that two clones named alike (~/a/exp, ~/b/exp) never share remote state.
 */
export function projectId(root: string, host = hostname()): string {
  const discriminator = createHash("sha256").update(`${host}\0${resolve(root)}`).digest("hex").slice(0, 8);
  return `${basename(root)}-${discriminator}`;
}

/** Every target name a command accepts: the embedded "local" first, then the config's. */
export function targetNames(targets: Record<string, TargetConfig>): string[] {
  return ["local", ...Object.keys(targets).filter((n) => n !== "local")];
}

export function describeTargets(targets: Record<string, TargetConfig>): string {
  return `defined targets: ${targetNames(targets).join(", ")} (add others under [targets.NAME] in ${CONFIG_FILE})`;
}
