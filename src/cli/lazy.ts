// The heavy layers (jobs, transports, envsync, zod) load when a command needs them, not at start: `--version`,
// `status` and `jobs` on finished jobs never load them. Loading the jobs layer through here also arranges for
// the connections it may open to be closed before the process exits.
let jobsLayerLoaded = false;

export async function jobsLayer<T>(load: () => Promise<T>): Promise<T> {
  jobsLayerLoaded = true;
  return load();
}

export async function closeOpenedSessions(): Promise<void> {
  if (jobsLayerLoaded) await (await import("../jobs/session.js")).closeSessions();
}
