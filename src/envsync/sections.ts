// Marked sections of a remote command's output, so that several layers' probes can share one remote
// command: "@@slurmray:<name>:begin@@" … "@@slurmray:<name>:end@@".

const marker = (name: string, edge: "begin" | "end"): string => `@@slurmray:${name}:${edge}@@`;

/** Wraps a POSIX sh snippet so that what it prints lands between the section's markers. */
export function wrapSection(name: string, snippet: string): string {
  return `echo '${marker(name, "begin")}'\n${snippet}\necho '${marker(name, "end")}'\n`;
}

/** The lines of a section, or null when the output holds no complete section of that name. */
export function sectionLines(output: string, name: string): string[] | null {
  const lines = output.split("\n");
  const begin = lines.indexOf(marker(name, "begin"));
  const end = lines.indexOf(marker(name, "end"), begin + 1);
  return begin < 0 || end < 0 ? null : lines.slice(begin + 1, end);
}
