// The project's Python major.minor: project.python in config, else asked of the project interpreter.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { LoadedConfig } from "../config/load.js";
import { projectInterpreter } from "../config/interpreter.js";
import { ConfigError } from "../util/errors.js";

export async function localPythonVersion(config: LoadedConfig): Promise<string> {
  if (config.project.python) return config.project.python;
  const python = projectInterpreter(config.root, config.env, config.project.interpreter);
  try {
    const { stdout } = await promisify(execFile)(python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]);
    return stdout.trim();
  } catch {
    throw new ConfigError("project.interpreter", `cannot run the project interpreter ${JSON.stringify(python)}; set project.interpreter or project.python`);
  }
}
