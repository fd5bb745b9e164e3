// Job arrays in the registry: an array is ONE record (its elements inside it); element N of job J is
// addressed as "J_N" and handled as a record derived from its array's, so status, logs, result and cancel
// go through the same code as for any job. Pure: no file or remote access here.
import { type ArrayElement, isFinal, type JobRecord, type JobState } from "../model/job.js";
import { InputError } from "../util/errors.js";

/** "J_N" → the array's id and the index, or null for a plain id. */
export function parseElementId(id: string): { arrayId: string; index: number } | null {
  const m = /^(.+)_(\d{1,6})$/.exec(id);
  return m ? { arrayId: m[1]!, index: Number(m[2]) } : null;
}

/** The record of element `index` of an array: its own id, dir, args, state and scheduler handle. */
export function elementRecord(array: JobRecord, index: number): JobRecord {
  const element = array.array?.elements[index];
  if (!element) {
    const size = array.array?.elements.length;
    throw new InputError(
      size === undefined
        ? `job ${array.id} is not an array; address it as ${array.id}`
        : `job ${array.id} has elements 0 to ${size - 1}; there is no element ${index}`,
    );
  }
  const { array: _array, ...rest } = array;
  return {
    ...rest,
    id: `${array.id}_${index}`,
    spec: { ...array.spec, args: element.args },
    remoteDir: `${array.remoteDir}/${index}`,
    state: element.state,
    schedulerId: element.schedulerId,
    startedAt: element.startedAt,
    endedAt: element.endedAt,
    reason: element.reason,
    exitCode: element.exitCode,
    element: index,
  };
}

/** The records of the elements that have not ended yet. */
export function activeElements(array: JobRecord): JobRecord[] {
  return (array.array?.elements ?? []).flatMap((element, index) => (isFinal(element.state) ? [] : [elementRecord(array, index)]));
}

/** The array's own state from its elements': active while any is; COMPLETED only when all completed. */
export function arrayState(elements: readonly ArrayElement[]): JobState {
  const states = elements.map((e) => e.state);
  if (states.includes("RUNNING")) return "RUNNING";
  if (states.some((s) => !isFinal(s))) return states.includes("SUBMITTING") ? "SUBMITTING" : "PENDING";
  if (states.every((s) => s === "COMPLETED")) return "COMPLETED";
  return states.some((s) => s !== "COMPLETED" && s !== "CANCELLED") ? "FAILED" : "CANCELLED";
}

/** Writes an element record's state back into its array's record, and the array's state from all of them. */
export function absorbElement(array: JobRecord, element: JobRecord): void {
  const { state, schedulerId, startedAt, endedAt, reason, exitCode } = element;
  const elements = array.array!.elements;
  elements[element.element!] = { args: elements[element.element!]!.args, state, schedulerId, startedAt, endedAt, reason, exitCode };
  array.state = arrayState(elements);
  const ends = elements.map((e) => e.endedAt).filter((e): e is string => e !== null);
  array.endedAt = isFinal(array.state) ? (ends.sort().at(-1) ?? new Date().toISOString()) : null;
  array.startedAt = elements.map((e) => e.startedAt).filter((e): e is string => e !== null).sort()[0] ?? null;
}
