// Reads what the runner left in a job dir (result.json / error.json) into one outcome, whatever the target.
// A result's value stays JSON text (JsonText): the CLI prints it without ever holding it parsed.
import { JobFailedError, JobFilesGoneError } from "../util/errors.js";
import { isObject } from "../util/json-file.js";
import { JsonText } from "../util/json-text.js";
import type { RemoteError } from "./job.js";

export interface PickledResult {
  pickle: string;
  repr: string;
  type: string;
}

export type ResultValue = { value: JsonText } | PickledResult;

/** What the CLI prints of a result: the value's JSON text, or the pickle's description. */
export type PrintableResult = JsonText | PickledResult | null;

export interface Outcome {
  result: ResultValue | null;
  error: RemoteError | null;
}

type FileContent = Buffer | string | null;

/** `read` returns a file's bytes (or text), or null when it does not exist. */
export async function readOutcome(dir: string, read: (path: string) => Promise<FileContent>): Promise<Outcome> {
  const [result, error] = await Promise.all([read(`${dir}/result.json`), read(`${dir}/error.json`)]);
  return outcomeOf(dir, result, error);
}

/** The outcome from result.json's and error.json's contents (null: the file does not exist) in job dir `dir`. */
export function outcomeOf(dir: string, result: FileContent, error: FileContent): Outcome {
  return {
    result: result === null ? null : parseResultFile(`${dir}/result.json`, typeof result === "string" ? Buffer.from(result) : result),
    error: error === null ? null : parseOutcomeFile(`${dir}/error.json`, error.toString(), isRemoteError),
  };
}

/** How json.dumps({"value": v}) starts: the runner's result.json is this, v's text, and "}". */
const VALUE_PREFIX = Buffer.from('{"value": ');

/** result.json with its value kept as text, checked; only a file in another form is parsed. */
function parseResultFile(path: string, bytes: Buffer): ResultValue {
  if (bytes.subarray(0, VALUE_PREFIX.length).equals(VALUE_PREFIX) && bytes.at(-1) === 0x7d) {
    const value = JsonText.from(bytes.subarray(VALUE_PREFIX.length, -1));
    if (value) return { value };
  }
  const parsed = parseOutcomeFile(path, bytes.toString("utf8"), isResultFile);
  return "value" in parsed ? { value: JsonText.of(parsed.value) } : parsed;
}

function isResultFile(value: unknown): value is { value: unknown } | PickledResult {
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

/**
 * A completed job's result. Its file must be there (a Python None is the text null in it), so a missing one is
 * never shown as a null result: the job's folder was removed or changed on the target.
 */
export function completedResult(jobId: string, dir: string, outcome: Outcome): ResultValue {
  if (outcome.result) return outcome.result;
  throw new JobFilesGoneError(`job ${jobId}: it completed, but its result is not in ${dir}`);
}

/** The value to return (the API): the JSON value itself, parsed, or the pickle's description. */
export function resultForDisplay(result: ResultValue | null): unknown {
  return printedValue(resultToPrint(result));
}

/** The result to print (the CLI): the value's JSON text, never parsed, or the pickle's description. */
export function resultToPrint(result: ResultValue | null): PrintableResult {
  if (result === null) return null;
  return "value" in result ? result.value : result;
}

/** The value of a printable result, parsed. */
export function printedValue(result: PrintableResult): unknown {
  return result instanceof JsonText ? result.parse() : result;
}

export function formatRemoteError(error: RemoteError): string {
  const traceback = error.traceback.trimEnd();
  return traceback ? traceback : `${error.type}: ${error.message}`;
}
