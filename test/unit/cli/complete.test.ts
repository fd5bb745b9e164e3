// Shell completion candidates, computed from the real command tree with fixed targets and job ids.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { completionScript, completions } from "../../../src/cli/complete.js";
import { program } from "../../../src/cli/program.js";

const sources = { targets: () => ["local", "cluster"], jobIds: () => ["20261130-101010-aaaaaa", "20261130-111111-bbbbbb"] };
const complete = (...words: string[]) => completions(program() as never, words, sources);

describe("completion candidates", () => {
  it("lists the commands, without the hidden helper", () => {
    const all = complete("");
    for (const name of ["run", "status", "logs", "result", "cancel", "attach", "jobs", "env", "doctor", "clean", "init", "completion"]) {
      assert.ok(all.includes(name), name);
    }
    assert.ok(!all.includes("__complete"));
    assert.deepEqual(complete("st"), ["status"]);
  });

  it("lists a command's flags with the global ones", () => {
    const flags = complete("run", "--");
    for (const flag of ["--target", "--args", "--detach", "--json", "--quiet", "--verbose", "--help"]) assert.ok(flags.includes(flag), flag);
    assert.deepEqual(complete("run", "--ta"), ["--target"]);
  });

  it("completes target names after --target, job ids for a job argument, shells for completion", () => {
    assert.deepEqual(complete("run", "x.py:f", "--target", ""), ["local", "cluster"]);
    assert.deepEqual(complete("jobs", "--target", "cl"), ["cluster"]);
    assert.deepEqual(complete("cancel", "20261130-11"), ["20261130-111111-bbbbbb"]);
    assert.deepEqual(complete("logs", "-f", ""), ["20261130-101010-aaaaaa", "20261130-111111-bbbbbb"]);
    assert.deepEqual(complete("completion", ""), ["bash", "zsh", "fish"]);
    assert.deepEqual(complete("env", ""), ["diff", "sync"]);
    assert.deepEqual(complete("env", "sync", "--target", ""), ["local", "cluster"]);
  });

  it("leaves an entry and a flag's file value to the shell's file completion", () => {
    assert.deepEqual(complete("run", ""), []);
    assert.deepEqual(complete("run", "--args-file", ""), []);
  });

  it("has a script for each shell that asks the helper", () => {
    for (const shell of ["bash", "zsh", "fish"] as const) assert.match(completionScript(shell), /slurmray __complete -- /);
  });
});
