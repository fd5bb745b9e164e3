// Every login shell sshd may hand our command to runs it under /bin/sh with the argv intact.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { onPath } from "../../../src/transport/index.js";
import { underPosixShell } from "../../../src/transport/remote-command.js";
import { quoteArgv } from "../../../src/util/shell.js";
import { awkwardArgs, randomArgvs } from "./argv.js";

// The test bed installs tcsh and fish; CI brings the bed up before the tests, so there they must be present.
const SHELLS = ["sh", "bash", "tcsh", "fish"];

/** What `shell -c line` prints, as sshd would run it for a user whose login shell is `shell`. */
function runAs(shell: string, line: string, stdin = ""): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(shell, ["-c", line], { encoding: "utf8", input: stdin, env: { PATH: "/usr/bin:/bin", HOME: "/nonexistent" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PRINT_ARGV = ["python3", "-c", "import sys,json;print(json.dumps(sys.argv[1:]))"];

for (const shell of SHELLS) {
  test(`${shell} as the login shell: argv arrives byte-identical, and the command runs under /bin/sh`, (t) => {
    if (!onPath(shell, "/usr/bin:/bin")) {
      if (process.env["CI"] === "true") throw new Error(`${shell} is missing (bash scripts/test-cluster.sh up installs it)`);
      t.skip(`${shell} is not installed`);
      return;
    }
    const argvs = [awkwardArgs(), ...randomArgvs(Date.now() % 100000, 30)];
    for (const argv of argvs) {
      const r = runAs(shell, underPosixShell(quoteArgv([...PRINT_ARGV, ...argv])));
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), argv, JSON.stringify(argv));
    }
    // POSIX syntax (a function, $(…), ${#…}) and `!` work, and the exit status comes back.
    const posix = runAs(shell, underPosixShell(`f() { x=$(printf 'ab!c'); echo "\${#x} $x"; }; f; exit 3`));
    assert.deepEqual([posix.status, posix.stdout], [3, "4 ab!c\n"]);
    const stdin = runAs(shell, underPosixShell(quoteArgv(["sh", "-s", "--", "a b"])), 'printf "%s|" "$1"; cat');
    assert.equal(stdin.stdout, "a b|");
  });
}

test("the line holds only base64 between single quotes, so no login shell sees a special character", () => {
  const line = underPosixShell(quoteArgv(["echo", "!x", "$HOME", "a\\b", "'"]));
  assert.match(line, /^exec \/bin\/sh -c 'eval "\$\(echo [A-Za-z0-9+/=]+ \| base64 -d\)"'$/);
});
