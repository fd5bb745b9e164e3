// sshd hands a command to the user's login shell (`$SHELL -c command`), which may be bash, csh, tcsh or fish.
// Our commands are POSIX sh, so each one is sent base64-encoded inside single quotes, where every login shell
// leaves the characters [A-Za-z0-9+/=$()"| -] alone (tcsh expands `!` even in single quotes; fish treats `\`
// there), and /bin/sh decodes and runs it (`base64` is in coreutils). The base64 costs a third more length,
// against the kernel's 128 KiB limit on one argument: commands are short, bulk data goes on stdin.

/** The command line that runs the POSIX sh `command` under /bin/sh, whatever the remote login shell is. */
export function underPosixShell(command: string): string {
  const encoded = Buffer.from(command, "utf8").toString("base64");
  // $(…) drops the command's trailing newlines, which never change a complete sh command.
  return `exec /bin/sh -c 'eval "$(echo ${encoded} | base64 -d)"'`;
}
