// `slurmray dashboard JOB` and `run --dashboard`: the Ray dashboard of a running job, on this machine.
// The head records the dashboard's host:port in JOB_DIR/ray/head.json; the transport forwards a local port to it
// (through the login node on Slurm), and a loopback HTTP proxy in front of that forward adds the job's Ray token,
// which a TCP forward cannot do. The token is read over the transport into memory only.
// Sessions load when a dashboard opens: the CLI reads dashboardEnv() from here at start, cheaply.
import type { Server } from "node:http";
import type { LoadedConfig } from "../config/load.js";
import { isFinal, type JobRecord, type JobSpec } from "../model/job.js";
import type { Forward } from "../transport/types.js";
import { InputError } from "../util/errors.js";

/** The job env variable that makes ray_cluster.py start the dashboard on the head. */
export const DASHBOARD_ENV = "SLURMRAY_RAY_DASHBOARD";

/** The env of a job whose Ray head starts the dashboard. */
export function dashboardEnv(): Record<string, string> {
  return { [DASHBOARD_ENV]: "1" };
}

const session = (config: LoadedConfig, target: string) => import("./session.js").then(({ openTarget }) => openTarget(config, target));

export function wantsDashboard(spec: JobSpec): boolean {
  return spec.ray && spec.env[DASHBOARD_ENV] === "1";
}

/** Why this job has no dashboard to open now, or null when it may have one. */
export function dashboardRefusal(job: JobRecord): string | null {
  if (!job.spec.ray) return `job ${job.id} runs without Ray, so it has no Ray dashboard; start one with: slurmray run --dashboard ENTRY`;
  if (!wantsDashboard(job.spec)) {
    return `job ${job.id} was not started with --dashboard, so its Ray head runs no dashboard; start one with: slurmray run --dashboard ENTRY`;
  }
  if (isFinal(job.state)) return `job ${job.id} ended ${job.state}: its Ray dashboard ended with it`;
  if (job.state !== "RUNNING") return `job ${job.id} is ${job.state}: its Ray dashboard exists once the job runs (wait with: slurmray attach ${job.id})`;
  return null;
}

const HOST_PORT = /^([A-Za-z0-9.-]+):(\d{1,5})$/;

/** The dashboard's host and port from head.json's text; null while the head has not written it. */
export function dashboardAddress(headJson: string | null): { host: string; port: number } | null {
  if (headJson === null) return null;
  let head: unknown;
  try {
    head = JSON.parse(headJson);
  } catch {
    return null; // written atomically, so only a foreign file is unparsable: treat as absent
  }
  const value = typeof head === "object" && head !== null ? (head as Record<string, unknown>)["dashboard"] : undefined;
  const match = typeof value === "string" ? HOST_PORT.exec(value) : null;
  const port = match ? Number(match[2]) : 0;
  return match && port > 0 && port < 65536 ? { host: match[1]!, port } : null;
}

export interface Dashboard {
  url: string;
  /** Stops the proxy and the forward. */
  close(): Promise<void>;
}

/** Opens the dashboard of a running job started with --dashboard; InputError saying why when it cannot. */
export async function openDashboard(config: LoadedConfig, job: JobRecord): Promise<Dashboard> {
  const refusal = dashboardRefusal(job);
  if (refusal) throw new InputError(refusal);
  const { files, transport, layout } = await session(config, job.target);
  if (!layout) {
    throw new InputError(`job ${job.id} runs on this machine: the Ray it starts serves its own dashboard (http://127.0.0.1:8265 with ray[default]); there is nothing to forward`);
  }
  const address = dashboardAddress(await files.read(`${job.remoteDir}/ray/head.json`));
  if (!address) {
    throw new InputError(`job ${job.id}: its Ray head has not recorded a dashboard yet (Ray may still be starting); try again in a few seconds`);
  }
  // No token file: Ray older than 2.52, whose dashboard takes no token (the job's log warned about it).
  const token = (await files.read(`${job.remoteDir}/ray/token`))?.trim() || null;
  const forward: Forward = await transport.forward(address.host, address.port);
  let server: Server;
  let url: string;
  try {
    ({ server, url } = await (await import("./dashboard-proxy.js")).startProxy({ host: "127.0.0.1", port: forward.localPort }, token));
  } catch (error) {
    await forward.close();
    throw error;
  }
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await forward.close();
    },
  };
}

/**
 * For `run --dashboard`: waits until the job runs and its head has recorded the dashboard, then opens it.
 * Resolves null when the job ends (or `signal` aborts) first.
 */
export async function openDashboardWhenReady(config: LoadedConfig, job: JobRecord, signal: AbortSignal, everyMs = 1000): Promise<Dashboard | null> {
  const { files, layout } = await session(config, job.target);
  if (!layout) return openDashboard(config, job); // says why there is nothing to forward
  const { setTimeout: sleep } = await import("node:timers/promises");
  while (!signal.aborted && !isFinal(job.state)) {
    if (job.state === "RUNNING" && dashboardAddress(await files.read(`${job.remoteDir}/ray/head.json`))) return openDashboard(config, job);
    await sleep(everyMs, undefined, { signal }).catch(() => undefined);
  }
  return null;
}
