// The remote side of code sync: the stamp probe (batchable with other layers' probes) and the one
// command that applies a sync (tar on stdin: changed files, deletion list, new manifest and stamp).
import type { Transport } from "../transport/types.js";
import { RemoteCommandError } from "../util/errors.js";
import { sectionLines, wrapSection } from "../util/sections.js";
import { quote } from "../util/shell.js";

/** Layout of slurmray's own files inside the code dir (never shipped from a project: .slurmray is excluded). */
export const META_DIR = ".slurmray";
export const STAMP_FILE = `${META_DIR}/stamp`;
/** The manifest journal (journal.ts). */
export const MANIFEST_FILE = `${META_DIR}/manifest.jsonl`;
/** Inside the uploaded tar: the project's files under TREE, sync metadata under SYNC. */
export const TREE = "tree";
export const SYNC = "sync";

const SECTION = "code";

/** POSIX sh that prints the code dir's stamp (nothing when there is none) in the `code` section. */
export function codeProbeSnippet(codeDir: string): string {
  return wrapSection(SECTION, `cat -- ${quote(`${codeDir}/${STAMP_FILE}`)} 2>/dev/null; echo`);
}

/** The stamp from a probe's output: a hash, null when the code dir has none, undefined when the section is missing. */
export function parseCodeProbe(output: string): string | null | undefined {
  const lines = sectionLines(output, SECTION);
  if (lines === null) return undefined;
  const stamp = lines.join("").trim();
  return /^[0-9a-f]{64}$/.test(stamp) ? stamp : null;
}

/** Runs the probe alone. */
export async function probeCodeStamp(transport: Transport, codeDir: string): Promise<string | null> {
  const result = await transport.script(codeProbeSnippet(codeDir));
  const stamp = parseCodeProbe(result.stdout);
  if (result.code !== 0 || stamp === undefined) {
    throw new RemoteCommandError("Reading the code stamp", "sh -s", result.code, result.stderr);
  }
  return stamp;
}

// Atomicity. Every file is extracted into a staging dir inside the code dir (same file system), then
// renamed into place: rename(2) replaces a file at once, so a job starting meanwhile reads each file's
// old or new bytes, never half of them, and job dirs keep referring to the one stable path `code/`.
// Directories that do not exist yet move as a whole, so a first sync is a few renames, not one per file.
// The alternative, a fresh `code.<hash>` tree per sync behind a swapped symlink, would copy or hardlink
// the whole project on every sync (costing what the one-file case must not) and needs its own cleanup.
// The stamp is emptied first and written last: an interrupted sync leaves no valid stamp, so the next one
// resends everything (SYNC/full) and removes what is not in its manifest. Shell builtins stand in for
// commands where they can (each fork costs milliseconds on a busy login node).
const APPLY = `set -eu
code=$1
umask 077
[ -d "$code/${META_DIR}" ] || mkdir -p -- "$code/${META_DIR}"
cd -- "$code"
: > ${STAMP_FILE}
stage=${META_DIR}/stage.$$
mkdir -- "$stage"
trap 'rm -rf -- "$code/$stage"' EXIT
tar -x -p -f - -C "$stage"
if [ -e "$stage/${SYNC}/full" ]; then
  find . -mindepth 1 -maxdepth 1 ! -name ${META_DIR} -exec rm -rf -- {} +
elif [ -s "$stage/${SYNC}/delete" ]; then
  xargs -0 rm -f -- < "$stage/${SYNC}/delete"
  find . -mindepth 1 -type d -empty ! -path './${META_DIR}' ! -path './${META_DIR}/*' -delete
fi
merge() {
  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    d=$2/\${f##*/}
    if [ -d "$f" ] && [ ! -L "$f" ] && [ -d "$d" ] && [ ! -L "$d" ]; then
      merge "$f" "$d"
      continue
    fi
    if [ -L "$d" ] || [ -d "$d" ] || { [ -e "$d" ] && [ -d "$f" ] && [ ! -L "$f" ]; }; then
      rm -rf -- "$d"
    fi
    mv -f -- "$f" "$d"
  done
}
if [ -d "$stage/${TREE}" ]; then merge "$stage/${TREE}" .; fi
if [ -e "$stage/${SYNC}/manifest-full" ]; then
  mv -f -- "$stage/${SYNC}/manifest-full" ${MANIFEST_FILE}
else
  cat -- "$stage/${SYNC}/manifest-delta" >> ${MANIFEST_FILE}
fi
read -r stamp < "$stage/${SYNC}/stamp" || :
printf '%s' "$stamp" > ${STAMP_FILE}
`;

/** argv of the apply command; its stdin is the tar stream. */
export function applyCommand(codeDir: string): string[] {
  return ["sh", "-c", APPLY, "sh", codeDir];
}
