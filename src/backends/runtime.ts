// The runtime (runner.py, ray_cluster.py, queue.py, slurmray_root_writes.py, and store_objects.py, whose check
// of a code tree the runner runs) lives on a target under
// <base_dir>/runtime/<hash>, named by its content. `run` uploads it once its probe has checked the paths are the
// user's alone. A command that needs it and finds it missing (the first `status` or `cancel` after an upgrade of
// slurmray gave it a new hash, or a site purged it) says so with NO_RUNTIME; `withRuntime` then uploads it the
// same way and runs the command once more, so a user can always see and cancel their jobs.
import { dirname } from "node:path";
import { remoteFile } from "../remote/index.js";
import { uploadFiles } from "../transport/files.js";
import type { Transport } from "../transport/types.js";
import { RemoteCommandError } from "../util/errors.js";
import { checkPrivatePaths, privatePathsSnippet } from "../util/remote-private.js";
import { quote } from "../util/shell.js";

export const RUNTIME_FILES = ["runner.py", "ray_cluster.py", "queue.py", "slurmray_root_writes.py", "store_objects.py"] as const;

/** What a command that needs the runtime prints on stderr when it is not there. */
const NO_RUNTIME = "@@slurmray:no-runtime@@";

/** The runtime's paths that must be the user's alone: `<base>/runtime`, the dir and its files. */
export function runtimePaths(runtimeDir: string): string[] {
  return [dirname(runtimeDir), runtimeDir, ...RUNTIME_FILES.map((f) => `${runtimeDir}/${f}`)];
}

/** POSIX sh to put before a command that runs `file` of the runtime: stops with NO_RUNTIME when it is missing. */
export function requireRuntime(runtimeDir: string, file: (typeof RUNTIME_FILES)[number]): string {
  return `if [ ! -f ${quote(`${runtimeDir}/${file}`)} ]; then echo ${quote(NO_RUNTIME)} >&2; exit 97; fi`;
}

/**
 * Uploads the runtime into `runtimeDir`. Unless the caller's probe has just checked them (`checked`), its paths
 * are first checked to be the user's alone, as `run` does: in a shared base_dir, a runtime dir another user
 * made would let them run their code as this user.
 */
export async function uploadRuntime(transport: Transport, runtimeDir: string, checked: boolean): Promise<void> {
  if (!checked) {
    const base = dirname(dirname(runtimeDir));
    const { code, stdout, stderr } = await transport.script(privatePathsSnippet(base, runtimePaths(runtimeDir)));
    if (code !== 0) throw new RemoteCommandError("Checking the runtime's dir", "sh -s (private paths)", code, stderr);
    checkPrivatePaths(stdout, transport.description);
  }
  await uploadFiles(transport, dirname(remoteFile("runner.py")), RUNTIME_FILES, runtimeDir);
}

/** Runs `attempt`; when it failed for a missing runtime (NO_RUNTIME), uploads the runtime and runs it once more. */
export async function withRuntime<T>(transport: Transport, runtimeDir: string, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof RemoteCommandError && error.stderr.includes(NO_RUNTIME))) throw error;
    await uploadRuntime(transport, runtimeDir, false);
    return attempt();
  }
}
