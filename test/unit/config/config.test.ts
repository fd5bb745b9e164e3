// The config validation table: each bad slurmray.toml gets one exact message naming the key, the bad
// value and what is allowed.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig, parseConfigText, projectId } from "../../../src/config/load.js";
import { resolveResources, resolveTarget } from "../../../src/config/target.js";
import { ConfigError, InputError } from "../../../src/util/errors.js";
import { scratchDir } from "../../helpers/scratch.js";

const BAD: [toml: string, message: string][] = [
  ["nonsense = 1","slurmray.toml: (top level): unknown key \"nonsense\"; valid keys: project, targets"],
  ["[project]\nnmae = \"x\"","slurmray.toml: project: unknown key \"nmae\"; valid keys: name, default_target, python, interpreter, files, exclude, strict_versions, snapshot, requirements, ray, pool, retention_days, max_upload_mb, max_file_mb, outputs"],
  ["[project]\nname = \"has space\"","slurmray.toml: project.name: must be letters, digits, '.', '_' or '-', starting with a letter or digit, got \"has space\""],
  ["[project]\nname = 42","slurmray.toml: project.name: expected a string, got 42"],
  ["[project]\npython = \"3\"","slurmray.toml: project.python: must be a Python major.minor such as \"3.11\", got \"3\""],
  ["[project]\npython = 3.11","slurmray.toml: project.python: expected a string, got 3.11"],
  ["[project]\nstrict_versions = \"yes\"","slurmray.toml: project.strict_versions: expected a boolean, got \"yes\""],
  ["[project]\nretention_days = -1","slurmray.toml: project.retention_days: must be at least 1, got -1"],
  ["[project]\nretention_days = 0","slurmray.toml: project.retention_days: must be at least 1, got 0"],
  ["[project]\nexclude = \"results/\"","slurmray.toml: project.exclude: expected a list, got \"results/\""],
  ["[project]\nfiles = [\"\"]","slurmray.toml: project.files[0]: must not be empty, got \"\""],
  ["[project]\nsnapshot = \"partial\"","slurmray.toml: project.snapshot: must be one of \"top-level\", \"full\", got \"partial\""],
  ["[targets.c]\nhost = \"x\"","slurmray.toml: targets.c.kind: must be one of \"slurm\", \"server\", \"local\", got nothing"],
  ["[targets.c]\nkind = \"kubernetes\"","slurmray.toml: targets.c.kind: must be one of \"slurm\", \"server\", \"local\", got \"kubernetes\""],
  ["[targets.c]\nkind = \"slurm\"","slurmray.toml: targets.c.host: is required (a string)"],
  ["[targets.c]\nkind = \"slurm\"\nhost = \"a b\"","slurmray.toml: targets.c.host: must be a hostname or ~/.ssh/config alias without spaces or shell characters, got \"a b\""],
  ["[targets.c]\nkind = \"slurm\"\nhost = \"h\"\nport = 70000","slurmray.toml: targets.c.port: must be at most 65535, got 70000"],
  ["[targets.c]\nkind = \"slurm\"\nhost = \"h\"\nport = \"22\"","slurmray.toml: targets.c.port: expected a number, got \"22\""],
  ["[targets.c]\nkind = \"slurm\"\nhost = \"h\"\nprt = 22","slurmray.toml: targets.c: unknown key \"prt\"; valid keys: kind, host, port, user, identity_file, ssh_config, known_hosts, base_dir, transport, python, allow_python_install, install_uv, defaults, partition, account, qos, constraint, modules, sbatch, setup, max_retries"],
  ["[targets.c]\nkind = \"slurm\"\nhost = \"h\"\npartition = \"cpu;rm\"","slurmray.toml: targets.c.partition: must be letters, digits, '.', '_' or '-', starting with a letter or digit, got \"cpu;rm\""],
  ["[targets.c]\nkind = \"slurm\"\nhost = \"h\"\ndefaults = { cpus = 0 }","slurmray.toml: targets.c.defaults.cpus: must be at least 1, got 0"],
  ["[targets.c]\nkind = \"slurm\"\nhost = \"h\"\ndefaults = { memory = 4 }","slurmray.toml: targets.c.defaults: unknown key \"memory\"; valid keys: nodes, cpus, mem, gpus, time"],
  ["[targets.c]\nkind = \"slurm\"\nhost = \"h\"\ntransport = \"telnet\"","slurmray.toml: targets.c.transport: must be one of \"openssh\", \"ssh2\", got \"telnet\""],
  ["[targets.c]\nkind = \"slurm\"\nhost = \"h\"\nmodules = \"gcc\"","slurmray.toml: targets.c.modules: expected a list, got \"gcc\""],
  ["[targets.c]\nkind = \"server\"\nhost = \"h\"\nlimits = { gpus = [-1] }","slurmray.toml: targets.c.limits.gpus[0]: must be at least 0, got -1"],
  ["[targets.c]\nkind = \"local\"\nhost = \"h\"","slurmray.toml: targets.c: unknown key \"host\"; valid keys: kind, base_dir, defaults"],
  ["[targets.\"bad name\"]\nkind = \"local\"","slurmray.toml: name \"bad name\" in targets: must be made of letters, digits, '.', '_' or '-', starting with a letter or digit"],
  ["[project\nname = \"x\"","slurmray.toml: not valid TOML at line 1, column 9: Invalid TOML document: illegal character in key"],
  ["project = 3","slurmray.toml: project: expected a table, got 3"],
  ["[targets.c]\nkind = \"slurm\"\nhost = \"h\"\nmax_retries = 99","slurmray.toml: targets.c.max_retries: must be at most 10, got 99"],
];

describe("slurmray.toml validation", () => {
  for (const [toml, message] of BAD) {
    it(`refuses ${JSON.stringify(toml)}`, () => {
      assert.throws(() => parseConfigText(toml, "slurmray.toml"), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.exitCode, 2);
        assert.equal(error.message, message);
        return true;
      });
    });
  }

  it("accepts a full configuration", () => {
    const config = parseConfigText(
      `[project]
name = "demo"
default_target = "cluster"
python = "3.11"
exclude = ["results/"]
[targets.cluster]
kind = "slurm"
host = "login.example"
port = 2222
partition = "cpu"
modules = ["python/3.11"]
defaults = { cpus = 4, mem = 16, time = 60 }
[targets.box]
kind = "server"
host = "box"
limits = { cpus = 32, mem = 256, gpus = [0, 1] }
`,
      "slurmray.toml",
    );
    assert.equal(config.targets?.["cluster"]?.kind, "slurm");
    assert.deepEqual(config.project?.exclude, ["results/"]);
  });
});

describe("target and resources", () => {
  function project(toml: string | null, env: Record<string, string> = {}) {
    const root = scratchDir("srcfg-");
    if (toml !== null) writeFileSync(join(root, "slurmray.toml"), toml);
    return loadConfig(root, env);
  }

  it("runs on the embedded local target with no configuration", () => {
    const config = project(null);
    assert.equal(config.file, null);
    assert.deepEqual(resolveTarget(config), { name: "local", config: { kind: "local" } });
  });

  it("picks flag over SLURMRAY_TARGET over default_target", () => {
    const toml = '[project]\ndefault_target = "a"\n[targets.a]\nkind = "local"\n[targets.b]\nkind = "local"\n[targets.c]\nkind = "local"\n';
    assert.equal(resolveTarget(project(toml)).name, "a");
    assert.equal(resolveTarget(project(toml, { SLURMRAY_TARGET: "b" })).name, "b");
    assert.equal(resolveTarget(project(toml, { SLURMRAY_TARGET: "b" }), "c").name, "c");
  });

  it("names the defined targets when the target is unknown", () => {
    assert.throws(() => resolveTarget(project('[targets.gpu]\nkind = "local"\n'), "cluster"), {
      message: '--target: no target named "cluster"; defined targets: local, gpu (add others under [targets.NAME] in slurmray.toml)',
    });
  });

  it("refuses a default_target that is not defined", () => {
    assert.throws(() => project('[project]\ndefault_target = "cluster"\n'), {
      message: 'project.default_target: no target named "cluster"; defined targets: local (add others under [targets.NAME] in slurmray.toml)',
    });
  });

  it("reads .env at the project root, the process environment winning", () => {
    const root = scratchDir("srcfg-");
    writeFileSync(join(root, "slurmray.toml"), '[targets.a]\nkind = "local"\n[targets.b]\nkind = "local"\n');
    writeFileSync(join(root, ".env"), "SLURMRAY_TARGET=a\n");
    assert.equal(resolveTarget(loadConfig(root, {})).name, "a");
    assert.equal(resolveTarget(loadConfig(root, { SLURMRAY_TARGET: "b" })).name, "b");
  });

  it("takes flags over target defaults over built-in defaults", () => {
    const target = { kind: "slurm" as const, host: "h", partition: "cpu", defaults: { cpus: 4, mem: 16 } };
    assert.deepEqual(resolveResources(target, { mem: 2 }), { nodes: 1, cpus: 4, mem: 2, gpus: 0, time: 60, partition: "cpu" });
    assert.equal(resolveResources(target, { partition: "gpu" }).partition, "gpu");
  });

  it("refuses several nodes on a one-machine target", () => {
    assert.throws(() => resolveResources({ kind: "local" }, { nodes: 2 }), InputError);
  });

  it("names a project by its folder and a hash of host and root; a configured name is the exact id", () => {
    const [a, b] = [scratchDir("srcfg-"), scratchDir("srcfg-")];
    for (const dir of [join(a, "exp"), join(b, "exp")]) mkdirSync(dir);
    const [one, two] = [loadConfig(join(a, "exp"), {}).projectName, loadConfig(join(b, "exp"), {}).projectName];
    assert.match(one, /^exp-[0-9a-f]{8}$/);
    assert.notEqual(one, two);
    assert.equal(one, loadConfig(join(a, "exp"), {}).projectName);
    assert.notEqual(projectId(join(a, "exp"), "host1"), projectId(join(a, "exp"), "host2"));
    writeFileSync(join(a, "exp", "slurmray.toml"), '[project]\nname = "shared"\n');
    assert.equal(loadConfig(join(a, "exp"), {}).projectName, "shared");
  });

  it("takes an outputs folder name, one level deep", () => {
    for (const ok of ["results", "results/", ".out"]) assert.equal(parseConfigText(`[project]\noutputs = "${ok}"\n`, "slurmray.toml").project?.outputs, ok);
    for (const bad of ["a/b", "..", ".", "", "/abs", "../x"]) {
      assert.throws(() => parseConfigText(`[project]\noutputs = "${bad}"\n`, "slurmray.toml"), /project\.outputs/, bad);
    }
  });
});
