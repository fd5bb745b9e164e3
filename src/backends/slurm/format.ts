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

function expandRange(range: string): string[] {
  const [from, to] = range.split("-");
  if (to === undefined) return [from!];
  const width = from!.length;
  const names: string[] = [];
  for (let n = Number(from); n <= Number(to); n++) names.push(String(n).padStart(width, "0"));
  return names;
}

/** Slurm host list → node names: "n[1-3,7],gpu01" → ["n1", "n2", "n3", "n7", "gpu01"]. "" and "None assigned" → []. */
export function expandHostlist(list: string): string[] {
  const text = list.trim();
  if (text === "" || text.startsWith("(") || /^none/i.test(text)) return [];
  return splitTopLevel(text).flatMap((part) => {
    const match = /^([^[]*)\[([^\]]+)\](.*)$/.exec(part);
    if (!match) return [part];
    const [, prefix, ranges, suffix] = match;
    return ranges!.split(",").flatMap(expandRange).map((n) => `${prefix}${n}${suffix}`);
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
