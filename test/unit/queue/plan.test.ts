// queue.py's allocator, called directly: fair order between users (dominant share), FIFO within a user,
// backfill that never delays the first waiting job, exclusive core and GPU ids, and the request check.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { callPy, queuePy } from "./harness.js";

interface Limits {
  cpus: number;
  mem: number;
  gpus: number[];
}
interface Plan {
  start: Record<string, { cores: number[]; gpu_ids: number[] }>;
  waiting: string[];
  reason: Record<string, string>;
}

const NOW = 1_000_000;

function running(id: string, user: string, cores: number[], more: Record<string, unknown> = {}) {
  return { id, user, cpus: cores.length, mem: 1, gpus: 0, cores, gpu_ids: [], started: NOW - 60, time: null, ...more };
}

function pending(id: string, user: string, submitted: number, more: Record<string, unknown> = {}) {
  return { id, user, cpus: 1, mem: 1, gpus: 0, time: null, submitted, ...more };
}

function plan(limits: Limits, run: unknown[], pend: unknown[]): Plan {
  return callPy("plan", limits, run, pend, NOW) as Plan;
}

const CPU4: Limits = { cpus: 4, mem: 16, gpus: [] };

describe("queue plan: order", () => {
  test("the user with the smallest dominant share goes first, even if they submitted later", () => {
    const p = plan(CPU4, [running("a.1", "a", [0, 1, 2])], [pending("a.2", "a", 1), pending("b.1", "b", 2)]);
    assert.deepEqual(Object.keys(p.start), ["b.1"]);
    assert.deepEqual(p.waiting, ["a.2"]);
    assert.equal(p.reason["a.2"], "Resources");
  });

  test("the dominant share is the largest of cpus, memory and GPUs over their limits", () => {
    const limits = { cpus: 8, mem: 16, gpus: [0, 1, 2, 3] };
    // a: 1/8 cpus but 3/4 GPUs -> 0.75; b: 4/8 cpus -> 0.5. b goes first although it holds more cpus.
    const run = [
      running("a.1", "a", [0], { gpus: 3, gpu_ids: [0, 1, 2] }),
      running("b.1", "b", [1, 2, 3, 4]),
    ];
    const p = plan(limits, run, [pending("a.2", "a", 1, { cpus: 3 }), pending("b.2", "b", 2, { cpus: 3 })]);
    assert.deepEqual(Object.keys(p.start), ["b.2"]);
    assert.deepEqual(callPy("share", [1, 1, 3], limits), 0.75);
    assert.deepEqual(callPy("share", [4, 12, 0], limits), 0.75);
  });

  test("equal shares: the earliest submission goes first", () => {
    const p = plan({ cpus: 1, mem: 16, gpus: [] }, [], [pending("a.1", "a", 5), pending("b.1", "b", 3)]);
    assert.deepEqual(Object.keys(p.start), ["b.1"]);
    assert.deepEqual(p.waiting, ["a.1"]);
  });

  test("within a user, first in first out: a small later job does not pass a big earlier one", () => {
    const p = plan(CPU4, [running("x.1", "x", [0, 1, 2])], [pending("a.1", "a", 1, { cpus: 2 }), pending("a.2", "a", 2)]);
    assert.deepEqual(p.start, {});
    assert.deepEqual(p.waiting, ["a.1", "a.2"]);
    assert.deepEqual([p.reason["a.1"], p.reason["a.2"]], ["Resources", "Priority"]);
  });

  test("A queues 5 and B 1 on 2 cpus: B's job starts before A's third", () => {
    const limits = { cpus: 2, mem: 16, gpus: [] };
    const mine = [1, 2, 3, 4, 5].map((i) => pending(`a.${i}`, "a", i));
    const first = plan(limits, [], mine);
    assert.deepEqual(Object.keys(first.start).sort(), ["a.1", "a.2"]);
    const whileFull = plan(limits, [running("a.1", "a", [0]), running("a.2", "a", [1])], [...mine.slice(2), pending("b.1", "b", 10)]);
    assert.equal(whileFull.waiting[0], "b.1", "B is next in line");
    // a.1 ends: a holds 1 of 2 cpus, b none -> b.1 starts before a.3.
    const second = plan(limits, [running("a.2", "a", [1])], [...mine.slice(2), pending("b.1", "b", 10)]);
    assert.deepEqual(Object.keys(second.start), ["b.1"]);
  });
});

describe("queue plan: backfill", () => {
  // x runs 2 of 4 cpus for 10 more minutes; the head needs all 4, so it starts in 10 minutes.
  const run = [running("x.1", "x", [0, 1], { started: NOW, time: 10 })];
  const head = pending("a.1", "a", 1, { cpus: 4 });

  test("a later job with a time limit that ends before the head's start runs now", () => {
    const p = plan(CPU4, run, [head, pending("b.1", "b", 2, { cpus: 2, time: 5 })]);
    assert.deepEqual(Object.keys(p.start), ["b.1"]);
    assert.equal(p.reason["b.1"], "Backfill");
    assert.deepEqual(p.waiting, ["a.1"]);
  });

  test("a later job that would end after the head's start waits", () => {
    const p = plan(CPU4, run, [head, pending("b.1", "b", 2, { cpus: 2, time: 20 })]);
    assert.deepEqual(p.start, {});
    assert.deepEqual(p.waiting, ["a.1", "b.1"]);
  });

  test("a later job with no time limit never backfills", () => {
    const p = plan(CPU4, run, [head, pending("b.1", "b", 2)]);
    assert.deepEqual(p.start, {});
  });

  test("a long job may use what the head will not need at its start", () => {
    // x holds 3 cpus for 10 minutes; the head needs 2: at its start 4 are free, 2 left over for a long job.
    const p = plan(
      CPU4,
      [running("x.1", "x", [0, 1, 2], { started: NOW, time: 10 })],
      [pending("a.1", "a", 1, { cpus: 2 }), pending("b.1", "b", 2, { time: 600 })],
    );
    assert.deepEqual(Object.keys(p.start), ["b.1"]);
  });

  test("a running job with no time limit may end at any moment: no backfill into what the head needs", () => {
    const p = plan(CPU4, [running("x.1", "x", [0, 1])], [head, pending("b.1", "b", 2, { cpus: 2, time: 1 })]);
    assert.deepEqual(p.start, {});
  });

  test("backfilled jobs together stay within what the head leaves over", () => {
    const p = plan(
      CPU4,
      [running("x.1", "x", [0, 1, 2], { started: NOW, time: 10 })],
      [pending("a.1", "a", 1, { cpus: 3 }), pending("b.1", "b", 2, { time: 600 }), pending("c.1", "c", 3, { time: 600 })],
    );
    // One cpu is free now and 1 is left over at the head's start: only b.1 fits.
    assert.deepEqual(Object.keys(p.start), ["b.1"]);
    assert.deepEqual(p.waiting, ["a.1", "c.1"]);
  });
});

describe("queue plan: exclusive ids", () => {
  test("core and GPU ids never overlap running jobs or each other", () => {
    const limits = { cpus: 4, mem: 16, gpus: [0, 1, 3] };
    const run = [running("x.1", "x", [0, 2], { gpus: 1, gpu_ids: [1] })];
    const one = { cpus: 1, gpus: 1 };
    const p = plan(limits, run, [pending("a.1", "a", 1, one), pending("b.1", "b", 2, one), pending("c.1", "c", 3, one)]);
    assert.deepEqual(p.start, { "a.1": { cores: [1], gpu_ids: [0] }, "b.1": { cores: [3], gpu_ids: [3] } });
    assert.deepEqual(p.waiting, ["c.1"]);
  });

  test("memory is counted: a job waits when the memory left is too small", () => {
    const p = plan({ cpus: 4, mem: 4, gpus: [] }, [running("x.1", "x", [0], { mem: 3 })], [pending("a.1", "a", 1, { mem: 2 })]);
    assert.deepEqual(p.start, {});
  });
});

describe("queue request check", () => {
  const limits = { cpus: 2, mem: 8, gpus: [0] };
  for (const [cpus, mem, gpus, name] of [
    [3, 1, 0, "limits.cpus"],
    [1, 9, 0, "limits.mem"],
    [1, 1, 2, "limits.gpus"],
  ] as const) {
    test(`a request over ${name} is refused with exit code 2, naming it`, () => {
      const out = callPy("check_request", cpus, mem, gpus, null, limits) as { error: string; code: number };
      assert.equal(out.code, 2);
      assert.match(out.error, new RegExp(name.replace(".", "\\.")));
    });
  }

  test("malformed limits are refused naming the key", () => {
    const out = callPy("parse_limits", '{"cpus": 2, "mem": 4, "gpus": [0, 0]}') as { error: string; code: number };
    assert.equal(out.code, 2);
    assert.match(out.error, /limits\.gpus/);
  });
});

describe("queue liveness", () => {
  const entry = (state: string) => ({ state, supervisor: { pid: 999_999_999, start: 1 }, pid: 999_999_999, start: 1 });

  test("visible processes: a pid that is gone is dead, whatever the heartbeat", () => {
    assert.equal(callPy("entry_alive", entry("RUNNING"), true, 0), false);
  });

  test("where /proc hides other users' processes, a fresh heartbeat means alive and a stale or missing one dead", () => {
    assert.equal(callPy("entry_alive", entry("PENDING"), false, 1), true);
    assert.equal(callPy("entry_alive", entry("RUNNING"), false, 60), false);
    assert.equal(callPy("entry_alive", entry("RUNNING"), false, null), false);
    assert.equal(callPy("entry_alive", entry("COMPLETED"), false, 1), false);
  });
});

describe("queue plan: job array groups", () => {
  test("at most group_limit jobs of a group run; the capped ones wait without blocking others", () => {
    const group = { group: "arr", group_limit: 2 };
    const p = plan(CPU4, [running("a.1", "a", [0], group)], [pending("a.2", "a", 1, group), pending("a.3", "a", 2, group), pending("a.4", "a", 3)]);
    assert.deepEqual(Object.keys(p.start).sort(), ["a.2", "a.4"]);
    assert.deepEqual(p.waiting, ["a.3"]);
    assert.equal(p.reason["a.3"], "GroupLimit");
  });

  test("a group is one user's: another user's group of the same name is counted apart", () => {
    const group = { group: "arr", group_limit: 1 };
    const p = plan(CPU4, [running("a.1", "a", [0], group)], [pending("b.1", "b", 1, group)]);
    assert.deepEqual(Object.keys(p.start), ["b.1"]);
  });
});

test("queue.py is Python 3.8 syntax (the oldest the server may run)", () => {
  const check = "import ast, sys; ast.parse(open(sys.argv[1]).read(), feature_version=(3, 8))";
  const out = spawnSync("python3", ["-c", check, queuePy], { encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
});
