// The pure parts of job arrays: sbatch's --array value, element records and the array's state, the batched
// read of many files, and how the registry finds "J_N".
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseReadMany } from "../../../src/backends/job-files.js";
import { arraySpec } from "../../../src/backends/slurm/array.js";
import { renderSbatch } from "../../../src/backends/slurm/render.js";
import { absorbElement, activeElements, arrayState, elementRecord, parseElementId } from "../../../src/jobs/array-record.js";
import { findJob, jobsDir, readJobs, recordStatus, saveArray, saveJob, saveSubmitted } from "../../../src/jobs/registry.js";
import type { ArrayElement, JobRecord, JobState } from "../../../src/model/job.js";
import { argsFromValues } from "../../../src/model/job-args.js";
import { InputError } from "../../../src/util/errors.js";
import { scratchDir } from "../../helpers/scratch.js";
import { slurmJob } from "../slurm/job.js";

function element(state: JobState, args: Record<string, unknown> = {}): ArrayElement {
  return { args: argsFromValues(args), state, schedulerId: null, startedAt: null, endedAt: null, reason: null, exitCode: null };
}

function arrayJob(states: JobState[]): JobRecord {
  return { ...slurmJob({ id: "20261130-120000-abcdef" }), array: { maxParallel: 2, elements: states.map((s, i) => element(s, { i })) } };
}

describe("sbatch --array", () => {
  it("compresses indices into ranges with the cap", () => {
    assert.equal(arraySpec([0, 1, 2, 3, 4], 5), "0-4%5");
    assert.equal(arraySpec([7], 5), "7%5");
    assert.equal(arraySpec([9, 0, 1, 2, 7, 10, 3], 2), "0-3,7,9-10%2");
  });
  it("refuses no indices, negative ones and a cap below 1", () => {
    assert.throws(() => arraySpec([], 1), InputError);
    assert.throws(() => arraySpec([-1], 1), InputError);
    assert.throws(() => arraySpec([0], 0), InputError);
  });
  it("an array's script logs each element into its own dir and runs the runner there", () => {
    const script = renderSbatch({ job: arrayJob(["PENDING"]), target: {}, runtimeDir: "/rt", python: "/py" });
    assert.match(script, /^#SBATCH --output=\/home\/alice\/\S*\/%a\/job\.log$/m);
    assert.match(script, /^job_dir=\S+\/"\$SLURM_ARRAY_TASK_ID"$/m);
  });
});

describe("element records", () => {
  it("J_N is parsed; a plain id is not an element", () => {
    assert.deepEqual(parseElementId("20261130-120000-abcdef_12"), { arrayId: "20261130-120000-abcdef", index: 12 });
    assert.equal(parseElementId("20261130-120000-abcdef"), null);
  });
  it("an element has its own id, dir, args and state", () => {
    const array = arrayJob(["COMPLETED", "RUNNING"]);
    const record = elementRecord(array, 1);
    assert.equal(record.id, `${array.id}_1`);
    assert.equal(record.remoteDir, `${array.remoteDir}/1`);
    assert.deepEqual(JSON.parse(record.spec.args), { i: 1 });
    assert.equal(record.state, "RUNNING");
    assert.equal(record.element, 1);
    assert.equal(record.array, undefined);
    assert.throws(() => elementRecord(array, 2), /elements 0 to 1; there is no element 2/);
    assert.deepEqual(activeElements(array).map((e) => e.id), [`${array.id}_1`]);
  });
  it("the array is active while any element is, COMPLETED only when all completed", () => {
    assert.equal(arrayState([element("COMPLETED"), element("RUNNING")]), "RUNNING");
    assert.equal(arrayState([element("COMPLETED"), element("PENDING")]), "PENDING");
    assert.equal(arrayState([element("COMPLETED"), element("COMPLETED")]), "COMPLETED");
    assert.equal(arrayState([element("COMPLETED"), element("FAILED"), element("CANCELLED")]), "FAILED");
    assert.equal(arrayState([element("COMPLETED"), element("CANCELLED")]), "CANCELLED");
  });
  it("an element's new state is written back into its array", () => {
    const array = arrayJob(["COMPLETED", "RUNNING"]);
    const record = elementRecord(array, 1);
    Object.assign(record, { state: "FAILED", endedAt: "2026-11-30T12:00:05", reason: "boom" });
    absorbElement(array, record);
    assert.equal(array.state, "FAILED");
    assert.equal(array.array!.elements[1]!.reason, "boom");
    assert.deepEqual(JSON.parse(array.array!.elements[1]!.args), { i: 1 });
    assert.equal(array.endedAt, "2026-11-30T12:00:05");
  });
});

describe("the registry and elements", () => {
  it("finds J_N, saves an element into its array's record, and refuses a tampered element handle", () => {
    const root = scratchDir("srarr-");
    try {
      const array = arrayJob(["PENDING", "PENDING"]);
      saveJob(root, array);
      const record = findJob(root, `${array.id}_1`);
      Object.assign(record, { state: "COMPLETED", schedulerId: "12_1" });
      saveJob(root, record);
      const saved = findJob(root, array.id);
      assert.equal(saved.array!.elements[1]!.state, "COMPLETED");
      assert.equal(saved.array!.elements[1]!.schedulerId, "12_1");
      assert.throws(() => findJob(root, `${array.id}_5`), /no element 5/);
      saved.array!.elements[0]!.schedulerId = "1; rm -rf ~";
      saveJob(root, saved);
      assert.match(readJobs(root).invalid[0]!.error.message, /array\.elements\.0\.schedulerId/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("a polled state goes into the record as it is on disk: what another command wrote meanwhile stays, the first end wins", () => {
    const root = scratchDir("srarr-");
    try {
      const array = arrayJob(["SUBMITTING", "SUBMITTING", "RUNNING"]);
      saveJob(root, array);
      const stale = findJob(root, array.id); // as `slurmray jobs` read it, before its poll
      // Meanwhile `map` in another shell records what it submitted.
      const fresh = findJob(root, array.id);
      for (const [i, element] of fresh.array!.elements.entries()) Object.assign(element, { schedulerId: `77_${i}`, state: i === 2 ? "RUNNING" : "PENDING" });
      saveJob(root, fresh);
      // The poll's answer for element 2 is written without the stale copy's view of elements 0 and 1.
      const written = recordStatus(root, `${stale.id}_2`, { state: "COMPLETED", exitCode: 0, endedAt: "2026-12-01T00:00:00Z", startedAt: "2026-12-01T00:00:09Z" });
      assert.equal(written?.state, "COMPLETED");
      const after = findJob(root, array.id);
      assert.deepEqual(after.array!.elements.map((e) => [e.schedulerId, e.state]), [["77_0", "PENDING"], ["77_1", "PENDING"], ["77_2", "COMPLETED"]]);
      // An end already recorded stands; the same state is no write; a removed record is none.
      assert.equal(recordStatus(root, `${array.id}_2`, { state: "FAILED" }), null);
      assert.equal(findJob(root, `${array.id}_2`).state, "COMPLETED");
      assert.equal(recordStatus(root, `${array.id}_0`, { state: "PENDING" }), null);
      assert.equal(recordStatus(root, "20261130-120000-000000", { state: "RUNNING" }), null);
      // A start already recorded is kept.
      recordStatus(root, `${array.id}_1`, { state: "RUNNING", startedAt: "2026-12-01T00:00:01Z" });
      recordStatus(root, `${array.id}_1`, { state: "COMPLETED", startedAt: "2026-12-01T00:00:05Z" });
      assert.equal(findJob(root, `${array.id}_1`).startedAt, "2026-12-01T00:00:01Z");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("an array record written by two commands at once", () => {
  it("a map saving its copy keeps an end another shell recorded meanwhile (cancel J_1), and learns it", () => {
    const root = scratchDir("srarr-");
    try {
      const watched = arrayJob(["RUNNING", "RUNNING", "PENDING"]);
      saveJob(root, watched);
      // `slurmray cancel J_1` in another shell, while the map holds its copy.
      recordStatus(root, `${watched.id}_1`, { state: "CANCELLED", endedAt: "2026-12-01T00:00:02Z", reason: "cancelled by the user" });
      // The map's own news: element 0 completed, element 2 started.
      Object.assign(watched.array!.elements[0]!, { state: "COMPLETED", exitCode: 0, endedAt: "2026-12-01T00:00:03Z" });
      Object.assign(watched.array!.elements[2]!, { state: "RUNNING" });
      saveArray(root, watched);
      const saved = findJob(root, watched.id);
      assert.deepEqual(saved.array!.elements.map((e) => e.state), ["COMPLETED", "CANCELLED", "RUNNING"]);
      assert.equal(saved.array!.elements[1]!.reason, "cancelled by the user");
      assert.equal(watched.array!.elements[1]!.state, "CANCELLED", "the map's copy took the cancel, so its watch leaves element 1 be");
      assert.equal(saved.state, "RUNNING");
      // Both ended: the same end keeps the one recorded first (its reason); a different one keeps what the map saw.
      recordStatus(root, `${watched.id}_2`, { state: "CANCELLED", reason: "cancelled by the user" });
      Object.assign(watched.array!.elements[2]!, { state: "CANCELLED", reason: null });
      saveArray(root, watched);
      assert.equal(findJob(root, `${watched.id}_2`).reason, "cancelled by the user");
      const racing = arrayJob(["RUNNING"]);
      saveJob(root, racing);
      recordStatus(root, `${racing.id}_0`, { state: "CANCELLED", reason: "cancelled by the user" });
      Object.assign(racing.array!.elements[0]!, { state: "COMPLETED", exitCode: 0 });
      saveArray(root, racing);
      assert.equal(findJob(root, `${racing.id}_0`).state, "COMPLETED");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("a cancel of the array cancels what is active on disk, not an element that ended while the cancel went out", () => {
    const root = scratchDir("srarr-");
    try {
      const array = arrayJob(["RUNNING", "RUNNING"]);
      saveJob(root, array);
      const cancelling = findJob(root, array.id); // read by `cancel J` before its scheduler call
      recordStatus(root, `${array.id}_0`, { state: "COMPLETED", exitCode: 0, endedAt: "2026-12-01T00:00:01Z" });
      saveArray(root, cancelling, () => {
        for (const element of activeElements(cancelling)) absorbElement(cancelling, Object.assign(element, { state: "CANCELLED", reason: "cancelled by the user" }));
      });
      assert.deepEqual(findJob(root, array.id).array!.elements.map((e) => e.state), ["COMPLETED", "CANCELLED"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("a cancel that came while the job was being submitted stands: the record keeps CANCELLED and gains the handle to cancel", () => {
    const root = scratchDir("srarr-");
    try {
      const job = { ...slurmJob({ id: "20261201-120000-5b5b5b" }), state: "SUBMITTING" as const, schedulerId: null };
      saveJob(root, job);
      const plain = { ...job, id: "20261201-120000-5c5c5c" };
      saveJob(root, plain);
      // `slurmray cancel J` in another shell: no scheduler id to cancel yet.
      recordStatus(root, job.id, { state: "CANCELLED", endedAt: "2026-12-01T00:00:01Z", reason: "cancelled by the user" });
      const submitted = { ...job, schedulerId: "812", state: "PENDING" as const };
      assert.equal(saveSubmitted(root, submitted), true, "the caller must cancel job 812 now");
      assert.deepEqual([submitted.state, submitted.reason], ["CANCELLED", "cancelled by the user"]);
      const saved = findJob(root, job.id);
      assert.deepEqual([saved.state, saved.schedulerId, saved.reason], ["CANCELLED", "812", "cancelled by the user"]);
      // Without a cancel, the submission is saved as it is.
      assert.equal(saveSubmitted(root, { ...plain, schedulerId: "813", state: "PENDING" }), false);
      assert.deepEqual([findJob(root, plain.id).state, findJob(root, plain.id).schedulerId], ["PENDING", "813"]);

      // An array's elements cancelled while they were being submitted keep the handles they got since.
      const array = arrayJob(["SUBMITTING", "SUBMITTING"]);
      saveJob(root, array);
      recordStatus(root, `${array.id}_1`, { state: "CANCELLED", reason: "cancelled by the user" });
      for (const [i, element] of array.array!.elements.entries()) Object.assign(element, { state: "PENDING", schedulerId: `90_${i}` });
      saveArray(root, array);
      assert.deepEqual(findJob(root, array.id).array!.elements.map((e) => [e.state, e.schedulerId]), [["PENDING", "90_0"], ["CANCELLED", "90_1"]]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("four processes recording 40 elements each at the same instant lose none of them, and leave no lock", async () => {
    const root = scratchDir("srarr-");
    try {
      const array = arrayJob(Array.from({ length: 160 }, () => "RUNNING" as JobState));
      saveJob(root, array);
      const registry = new URL("../../../src/jobs/registry.ts", import.meta.url).href;
      const writer = (first: number) =>
        new Promise<number | null>((resolve) => {
          const code = `const { recordStatus } = await import(${JSON.stringify(registry)});
            for (let i = ${first}; i < ${first + 40}; i++) recordStatus(${JSON.stringify(root)}, "${array.id}_" + i, { state: "COMPLETED", exitCode: 0 });`;
          spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: "inherit" }).on("exit", resolve);
        });
      assert.deepEqual(await Promise.all([0, 40, 80, 120].map(writer)), [0, 0, 0, 0]);
      const states = findJob(root, array.id).array!.elements.map((e) => e.state);
      assert.equal(states.filter((s) => s === "COMPLETED").length, 160, `lost: ${states.flatMap((s, i) => (s === "COMPLETED" ? [] : [i])).join(",")}`);
      assert.deepEqual(readdirSync(jobsDir(root)).filter((name) => name.endsWith(".lock")), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("a lock left by a process that died is taken over", () => {
    const root = scratchDir("srarr-");
    try {
      const array = arrayJob(["RUNNING"]);
      saveJob(root, array);
      const lock = join(jobsDir(root), `${array.id}.lock`);
      writeFileSync(lock, "2147483646\n"); // no such pid
      assert.equal(recordStatus(root, `${array.id}_0`, { state: "COMPLETED" })?.state, "COMPLETED");
      assert.equal(existsSync(lock), false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("reading many files in one reply", () => {
  it("splits sizes and bytes, multi-byte text and missing files included", () => {
    const parts = ["é{}\n", null, ""];
    const reply = Buffer.concat(parts.map((p) => (p === null ? Buffer.from("-\n") : Buffer.concat([Buffer.from(`${Buffer.byteLength(p)}\n`), Buffer.from(p)]))));
    assert.deepEqual(parseReadMany(reply, 3), parts);
    assert.throws(() => parseReadMany(Buffer.from("5\nab"), 1), /garbled/);
    assert.throws(() => parseReadMany(Buffer.from(""), 1), /ended early/);
  });
});
