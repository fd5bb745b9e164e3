// A job's extra environment variables (the API's `env`): checked before anything is sent, on every target
// alike, and again by the backends that write them into a shell script.
import { InputError } from "../util/errors.js";
import { isObject } from "../util/json-file.js";

/** What a shell's `export NAME=…` takes as a name. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const ENV_NAME_RULE = "names are letters, digits and '_', not starting with a digit";

/**
 * What changes where a venv's Python imports from: its import path, its standard library, its lib dir's name.
 * A remote job runs without what the target's login environment sets of these (backends/job-environment.ts),
 * and its env is installed without them (envsync/apply.ts).
 */
export const PYTHON_IMPORT_VARIABLES = ["PYTHONPATH", "PYTHONHOME", "PYTHONPLATLIBDIR"] as const;

/** `env` when it maps variable names to strings an environment can hold; else an InputError saying which is wrong. */
export function checkJobEnv(env: unknown): Record<string, string> {
  if (!isObject(env)) throw new InputError("env: expected an object of variable names and string values such as { OMP_NUM_THREADS: \"4\" }");
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new InputError(`environment variable ${JSON.stringify(name)}: ${ENV_NAME_RULE}`);
    if (typeof value !== "string") throw new InputError(`environment variable ${name}: expected a string, got ${typeof value} (write ${JSON.stringify(String(value))})`);
    if (value.includes("\0")) throw new InputError(`environment variable ${name}: a value cannot hold a NUL character`);
  }
  return env as Record<string, string>;
}
