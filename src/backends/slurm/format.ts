// Parsers for the value formats squeue and sacct print: durations, host lists, memory sizes, TRES.

/** "1-02:03:04", "02:03:04", "03:04", "00:00.017" (sacct TotalCPU) → seconds. null for "", "INVALID", "UNLIMITED". */
export function parseDuration(raw: string): number | null {
  const match = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(raw.trim());
  if (!match) return null;
  const [, days, hours, minutes, seconds] = match;
  return Number(days ?? 0) * 86400 + Number(hours ?? 0) * 3600 + Number(minutes) * 60 + Number(seconds);
}

/** Splits at commas outside brackets: "a[1,3],b" → ["a[1,3]", "b"]. */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of list) {
    if (char === "[") depth++;
    if (char === "]") depth--;
    if (char === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  return parts.filter((p) => p !== "");
}

/** More nodes than any one range of a real cluster's host list: the scheduler's reply is data, not a loop bound. */
const MAX_RANGE = 100_000;

/** "08-10" → ["08", "09", "10"]; null for a range that is not two plain numbers in order, or too long to be one. */
function expandRange(range: string): string[] | null {
  const match = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(range);
  if (!match) return null;
  const [, from, to = from] = match;
  const [first, last] = [Number(from), Number(to)];
  if (last < first || last - first >= MAX_RANGE) return null;
  return Array.from({ length: last - first + 1 }, (_, i) => String(first + i).padStart(from!.length, "0"));
}

/** Slurm host list → node names: "n[1-3,7],gpu01" → ["n1", "n2", "n3", "n7", "gpu01"]. "" and "None assigned" → []. */
export function expandHostlist(list: string): string[] {
  const text = list.trim();
  if (text === "" || text.startsWith("(") || /^none/i.test(text)) return [];
  return splitTopLevel(text).flatMap((part) => {
    const match = /^([^[]*)\[([^\]]+)\](.*)$/.exec(part);
    if (!match) return [part];
    const [, prefix, ranges, suffix] = match;
    const numbers = ranges!.split(",").map(expandRange);
    // A range that cannot be expanded leaves its part as the scheduler wrote it.
    if (numbers.some((n) => n === null)) return [part];
    return numbers.flatMap((n) => n!).map((n) => `${prefix}${n}${suffix}`);
  });
}

const MEM_UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** sacct's MaxRSS/ReqMem-style sizes: "123456K", "1.5G", "0" → bytes. null when empty or unreadable. */
export function parseMemory(raw: string): number | null {
  const match = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(raw.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * MEM_UNITS[match[2]!.toUpperCase()]!);
}

/** AllocTRES "billing=3,cpu=3,gres/gpu=2,mem=300M,node=3" → its fields. */
export function parseTres(raw: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of raw.split(",")) {
    const at = part.indexOf("=");
    if (at > 0) fields.set(part.slice(0, at), part.slice(at + 1));
  }
  return fields;
}
