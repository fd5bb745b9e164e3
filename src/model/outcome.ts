// Reads what the runner left in a job dir (result.json / error.json) into one outcome, whatever the target.
import { JobFailedError } from "../util/errors.js";
import { isObject } from "../util/json-file.js";
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
    result: result === null ? null : parseOutcomeFile(`${dir}/result.json`, result, isResultValue),
    error: error === null ? null : parseOutcomeFile(`${dir}/error.json`, error, isRemoteError),
  };
}

function isResultValue(value: unknown): value is ResultValue {
  if (!isObject(value)) return false;
  return "value" in value || (typeof value.pickle === "string" && typeof value.repr === "string" && typeof value.type === "string");
}

function isRemoteError(value: unknown): value is RemoteError {
  return isObject(value) && typeof value.type === "string" && typeof value.message === "string" && typeof value.traceback === "string";
}

/** A file the runner wrote, checked: a truncated or foreign file is named, never a raw SyntaxError. */
function parseOutcomeFile<T>(path: string, text: string, valid: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!valid(value)) throw new JobFailedError(`${path} on the target is not what the runner writes (truncated or changed); the job's outcome is unknown`);
  return value;
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
