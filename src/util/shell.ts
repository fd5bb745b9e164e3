// POSIX shell quoting. Every remote command is built from an argv through these two functions,
// so that arguments arrive byte-identical whatever they contain.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell: single quotes, with embedded ' written as '\''. */
export function quote(arg: string): string {
  if (arg !== "" && SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Joins an argv into one shell command line. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quote).join(" ");
}
