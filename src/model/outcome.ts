// Reads what the runner left in a job dir (result.json / error.json) into one outcome, whatever the target.
import type { RemoteError } from "./job.js";

export interface PickledResult {
  pickle: string;
  repr: string;
  type: string;
}

export type ResultValue = { value: unknown } | PickledResult;

export interface Outcome {
  result: ResultValue | null;
  error: RemoteError | null;
}

/** `read` returns a file's text, or null when it does not exist. */
export async function readOutcome(dir: string, read: (path: string) => Promise<string | null>): Promise<Outcome> {
  const [result, error] = await Promise.all([read(`${dir}/result.json`), read(`${dir}/error.json`)]);
  return {
    result: result === null ? null : (JSON.parse(result) as ResultValue),
    error: error === null ? null : (JSON.parse(error) as RemoteError),
  };
}

/** The value to print or return: the JSON value itself, or the pickle's description. */
export function resultForDisplay(result: ResultValue | null): unknown {
  if (result === null) return null;
  return "value" in result ? result.value : result;
}

export function formatRemoteError(error: RemoteError): string {
  const traceback = error.traceback.trimEnd();
  return traceback ? traceback : `${error.type}: ${error.message}`;
}
