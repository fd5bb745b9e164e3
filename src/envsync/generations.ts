// Env generations: an env never changes under a job. The env of a project and Python is a family of dirs
// beside each other: `<base>` (the first) and `<base>-<n>`. The file `<base>.current` names the current one
// by its number (absent: `<base>` itself); every probe resolves it, in sh, with no extra command.
// When the snapshot changes while a pending or running job uses the current env, the apply script builds
// the next one beside it (made under `<base>-<n>.tmp` and renamed into place), installs into it, stamps it,
// and only then makes it current. With uv, the new env is a fresh venv with the whole snapshot: uv links
// every file from its cache (hard links), which costs less than copying the tree (measured: 0.2 s for the
// numpy/scipy/scikit-learn/pandas stack, against 0.2–0.4 s for `cp -al` alone). With pip, it is a
// hard-link copy of the current env (`cp -al`), its absolute paths moved to the new dir, plus the delta:
// pip replaces a file by unlinking it first, and Python writes its bytecode by rename, so the old env's
// files are never written through the shared links.
// A generation that is not current and that no pending or running job uses is removed, under the family's
// lock (`<base>.lock`), by the next apply script and by `slurmray clean`. In a project shared by name, an env
// that exists is never changed in place, and generations wait SHARED_SETTLE_MINUTES after a switch.
import { quote, quoteArgv } from "../util/shell.js";
import { STAMP_FILE } from "./stamp.js";

export interface EnvsInUse {
  /** The env dirs pending or running jobs use. */
  dirs: string[];
  /**
   * Another run of the project is between its env sync and its job's record (it holds a claim): the env it
   * synced is not known here, so the current env is kept as it is and no generation is removed.
   */
  claimed: boolean;
  /**
   * The project's config sets `name`, so other clones may share its envs: a run of another clone may have
   * probed the current env and not yet submitted the job that will name it, which only that clone knows.
   * So an env that exists is never changed in place (a change is always built beside it), and no generation
   * is removed until SHARED_SETTLE_MINUTES after the last switch of the current one.
   */
  shared: boolean;
}

/**
 * How long, in a project shared by name, a generation that stopped being current is kept whatever the jobs
 * say: longer than any run takes from its probe to its submission. Should a run take longer, its job fails
 * for a missing interpreter; it never runs with a changed env.
 */
export const SHARED_SETTLE_MINUTES = 10;

/** The pointer file naming the current generation. */
export const CURRENT_SUFFIX = ".current";
/** The lock every apply script and removal takes (outside the env dirs, which come and go). */
export const LOCK_SUFFIX = ".lock";

/** The generation dir `<base>-<n>`, or the base itself for n = 0. */
export function generationDir(base: string, n: number): string {
  return n === 0 ? base : `${base}-${n}`;
}

/** Sets $sr_env to the current generation of the family $sr_base (`read`, not `$(cat)`: no process to start). */
export const RESOLVE_ENV = `sr_env=$sr_base
sr_g=; { read -r sr_g < "$sr_base${CURRENT_SUFFIX}"; } 2>/dev/null
case $sr_g in ''|*[!0-9]*) ;; *) sr_env=$sr_base-$sr_g ;; esac`;

/** Takes the family's lock on descriptor 9 (flock(1) when present, else Python's fcntl on the inherited fd). */
export function lockFamily(onFail: string): string {
  return [
    `exec 9>>"$sr_base${LOCK_SUFFIX}" || ${onFail}`,
    `if command -v flock >/dev/null 2>&1; then flock 9; else python3 -c 'import fcntl; fcntl.flock(9, fcntl.LOCK_EX)'; fi || ${onFail}`,
  ].join("\n");
}

// Rewrites the absolute path of the old env in the new one's text files that hold it: the scripts' shebangs
// in bin/, the activate scripts and pyvenv.cfg. Each file is written anew and renamed over its link, so
// the old env keeps its own. Binaries in bin/ (no "#!") are left alone.
const RELOCATE = String.raw`import os, re, sys
old, new, root = (os.fsencode(a) for a in sys.argv[1:4])
pattern = re.compile(re.escape(old) + rb"(?![\w.-])")
bin_dir = os.path.join(root, b"bin")
for path in [os.path.join(root, b"pyvenv.cfg")] + [os.path.join(bin_dir, n) for n in os.listdir(bin_dir)]:
    if os.path.islink(path) or not os.path.isfile(path):
        continue
    with open(path, "rb") as f:
        data = f.read()
    text = data.startswith(b"#!") or os.path.basename(path).startswith(b"activate") or path.endswith(b"pyvenv.cfg")
    if not text or not pattern.search(data):
        continue
    tmp = path + b".slurmray-tmp"
    with open(tmp, "wb") as f:
        f.write(pattern.sub(new, data))
    os.chmod(tmp, os.stat(path).st_mode & 0o7777)
    os.replace(tmp, path)
`;

/** Files of the slurmray and uv bookkeeping that a clone must not share with the env it came from. */
const NOT_SHARED = [".slurmray-env.json", ".slurmray-constraints.txt", ".slurmray.lock", ".lock"];

/**
 * Sets $sr_env to a new generation beside the current one: an empty dir when $sr_fresh is set (the env is
 * then made anew), else a relocated hard-link copy of the current one. Expects $sr_base, $sr_env (the
 * current one, under the lock); sets $sr_n.
 */
export function buildBeside(onFail: string): string {
  const clone = `cp -al "$sr_env" "$sr_new.tmp" && (cd "$sr_new.tmp" && rm -f ${quoteArgv(NOT_SHARED)}) && "$sr_env/bin/python" -I -c ${quote(RELOCATE)} "$sr_env" "$sr_new" "$sr_new.tmp"`;
  const copy = `if [ -n "$sr_fresh" ]; then (umask 077 && mkdir "$sr_new.tmp"); else ${clone}; fi`;
  return `sr_n=0
for sr_d in "$sr_base"-*; do
  sr_s=\${sr_d#"$sr_base"-}; sr_s=\${sr_s%.tmp}
  case $sr_s in ''|*[!0-9]*) continue ;; esac
  [ "$sr_s" -gt "$sr_n" ] && sr_n=$sr_s
done
sr_n=$((sr_n + 1)); sr_new=$sr_base-$sr_n
{ ${copy} && mv "$sr_new.tmp" "$sr_new"; } || { rm -rf "$sr_new.tmp"; ${onFail}; }
sr_env=$sr_new`;
}

/** Makes $sr_env (generation $sr_n) the current one, atomically. */
export function switchCurrent(onFail: string): string {
  return `printf '%s\\n' "$sr_n" > "$sr_base${CURRENT_SUFFIX}.$$" && mv -f "$sr_base${CURRENT_SUFFIX}.$$" "$sr_base${CURRENT_SUFFIX}" || ${onFail}`;
}

/**
 * Sets $sr_moved to $sr_env when another sync stamped it after the caller's probe saw the stamp id
 * `seenStampId` ("" for no stamp): that sync's job may be about to use it, so it counts as in use.
 */
export function movedSince(seenStampId: string): string {
  const stamp = `"$sr_env/${STAMP_FILE}"`;
  const same = /^[0-9a-f]+$/.test(seenStampId) ? `grep -q -F ${quote(`"id":"${seenStampId}"`)} ${stamp}` : "false";
  return `sr_moved=; if [ -f ${stamp} ] && ! ${same}; then sr_moved=$sr_env; fi`;
}

/** The sh condition "$sr_env is one of these dirs". */
export function isOneOf(dirs: readonly string[]): string {
  return dirs.length === 0 ? "false" : `case "$sr_env" in ${dirs.map(quote).join("|")}) true ;; *) false ;; esac`;
}

/**
 * Removes every generation of $sr_base that is not $sr_env (the current one), not $sr_moved (see movedSince)
 * and not in `keep` (the envs of pending or running jobs), and leftovers of builds that failed; prints
 * "retired <dir>" for each. Run under the family's lock. In the `background`, the dir is first renamed to
 * `<dir>.trash` (gone from its name at once) and removed after the script has returned: removing a large
 * env's thousands of files would otherwise be most of the time a change takes.
 */
export function retireStale(keep: readonly string[], background: boolean, shared: boolean): string {
  const kept = keep.length === 0 ? "" : `  case "$sr_d" in ${keep.map(quote).join("|")}) continue ;; esac\n`;
  // The removal lets go of the lock (fd 9) and of the command's output.
  const remove = background
    ? `{ case $sr_d in *.trash) sr_t=$sr_d ;; *) sr_t=$sr_d.trash; mv "$sr_d" "$sr_t" || continue ;; esac; rm -rf "$sr_t" </dev/null >/dev/null 2>&1 9>&- & }`
    : `rm -rf "$sr_d"`;
  // <base>.trash first: a word, not a glob, so it must be looked at before <base> is renamed to it.
  const loop = `for sr_d in "$sr_base".trash "$sr_base" "$sr_base"-*; do
  [ -e "$sr_d" ] && [ "$sr_d" != "$sr_env" ] && [ "$sr_d" != "$sr_moved" ] || continue
  sr_s=\${sr_d#"$sr_base"}; sr_s=\${sr_s#-}; sr_s=\${sr_s%.trash}; sr_s=\${sr_s%.tmp}
  case $sr_s in *[!0-9]*) continue ;; esac
${kept}  ${remove} && printf 'retired %s\\n' "$sr_d"
done`;
  // Shared: nothing while the pointer (rewritten by every switch) is younger than the settling time.
  return shared ? `if [ -z "$(find "$sr_base${CURRENT_SUFFIX}" -mmin -${SHARED_SETTLE_MINUTES} 2>/dev/null)" ]; then\n${loop}\nfi` : loop;
}

/**
 * `slurmray clean`: for every env family of the project under `envsDir` (found by its lock file), under its
 * lock, removes the generations no pending or running job uses (`shared`: see EnvsInUse). Prints
 * "retired <dir>" lines.
 */
export function retireEnvsScript(envsDir: string, project: string, keep: readonly string[], shared: boolean): string {
  return `for sr_l in ${quote(`${envsDir}/${project}-py`)}*${LOCK_SUFFIX}; do
  [ -f "$sr_l" ] || continue
  sr_base=\${sr_l%${LOCK_SUFFIX}}
  case \${sr_base#${quote(`${envsDir}/${project}-py`)}} in *[!0-9.]*|'') continue ;; esac
  (
${lockFamily("exit 1")}
${RESOLVE_ENV}
${retireStale(keep, false, shared)}
  )
done
:
`;
}

/** The dirs a script printed as removed. */
export function parseRetired(output: string): string[] {
  return output.split("\n").flatMap((line) => (line.startsWith("retired ") ? [line.slice(8)] : []));
}
