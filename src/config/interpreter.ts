// The project interpreter: config `project.interpreter`, else $VIRTUAL_ENV, else ./.venv, else python3 on PATH.
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "../util/errors.js";

export function projectInterpreter(root: string, env: Record<string, string | undefined>, configured?: string): string {
  if (configured) {
    const path = isAbsolute(configured) || configured.includes("/") ? resolve(root, configured) : configured;
    if (path.includes("/") && !existsSync(path)) {
      throw new ConfigError("project.interpreter", `no interpreter at ${JSON.stringify(path)}; give the path of a python executable`);
    }
    return path;
  }
  const fromEnv = env["SLURMRAY_PYTHON"];
  if (fromEnv) return fromEnv;
  const virtualEnv = env["VIRTUAL_ENV"];
  if (virtualEnv && existsSync(join(virtualEnv, "bin", "python"))) return join(virtualEnv, "bin", "python");
  const dotVenv = join(root, ".venv", "bin", "python");
  if (existsSync(dotVenv)) return dotVenv;
  return "python3";
}
