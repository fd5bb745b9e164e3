// Marked sections of a remote command's output, so that several probes can share one remote command
// ("@@slurmray:<name>:begin@@" … "@@slurmray:<name>:end@@"). Every layer's probe uses these.

export function beginMarker(name: string): string {
  return `@@slurmray:${name}:begin@@`;
}

export function endMarker(name: string): string {
  return `@@slurmray:${name}:end@@`;
}

/** Wraps a POSIX sh snippet so that its output lands between the section's markers. */
export function wrapSection(name: string, snippet: string): string {
  return `echo '${beginMarker(name)}'\n${snippet}\necho '${endMarker(name)}'\n`;
}

/** The lines of a section, or null when the output holds no complete section of that name. */
export function sectionLines(output: string, name: string): string[] | null {
  const lines = output.split("\n");
  const begin = lines.indexOf(beginMarker(name));
  const end = lines.indexOf(endMarker(name), begin + 1);
  if (begin < 0 || end < 0) return null;
  return lines.slice(begin + 1, end);
}
