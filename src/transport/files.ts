// Moving files over any Transport: many files as ONE tar stream each way (one round trip, not one per file),
// and reading one remote file.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { Transform, Writable } from "node:stream";
import { collectBounded } from "../util/bounded-text.js";
import { RemoteCommandError, SlurmrayError } from "../util/errors.js";
import { announcedSize, SizedBuffer } from "../util/sized-buffer.js";
import type { Transport } from "./types.js";

/** Local tar, fed NUL-separated relative paths (so names with newlines survive). */
function localTar(args: string[]) {
  const child = spawn("tar", args, { stdio: ["pipe", "pipe", "pipe"] });
  const stderr = collectBounded(child.stderr);
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new SlurmrayError(`local tar failed (exit ${code}): ${stderr().trim()}`, 1)),
    );
  });
  return { child, done };
}

function nulList(relPaths: readonly string[]): string {
  return relPaths.map((p) => `${p}\0`).join("");
}

/** Uploads localRoot/relPath for each relPath into remoteDir (created if missing). Returns the tar bytes sent. */
export async function uploadFiles(
  transport: Transport,
  localRoot: string,
  relPaths: readonly string[],
  remoteDir: string,
): Promise<{ bytes: number }> {
  const tar = localTar(["-c", "-f", "-", "--null", "-C", localRoot, "-T", "-"]);
  tar.child.stdin.end(nulList(relPaths));
  let bytes = 0;
  // Counted in a Transform, not with a 'data' listener: that would start the flow before exec is ready for it.
  const counted = tar.child.stdout.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    }),
  );
  // umask 077: what slurmray creates on a target is the user's alone (0700 dirs, 0600 files).
  const command = ["sh", "-c", 'umask 077 && mkdir -p -- "$1" && exec tar -x -f - -C "$1"', "sh", remoteDir];
  const [result] = await Promise.all([transport.exec(command, { stdin: counted }), tar.done]);
  if (result.code !== 0) throw new RemoteCommandError("Uploading files", command.join(" "), result.code, result.stderr);
  return { bytes };
}

/** Downloads remoteDir/relPath for each relPath into localDir (created if missing). */
export async function downloadFiles(
  transport: Transport,
  remoteDir: string,
  relPaths: readonly string[],
  localDir: string,
): Promise<void> {
  mkdirSync(localDir, { recursive: true });
  const tar = localTar(["-x", "-f", "-", "-C", localDir]);
  const command = ["tar", "-c", "-f", "-", "--null", "-C", remoteDir, "-T", "-"];
  const [result] = await Promise.all([
    transport.exec(command, { stdin: nulList(relPaths), stdout: tar.child.stdin }),
    tar.done,
  ]);
  if (result.code !== 0) throw new RemoteCommandError("Downloading files", command.join(" "), result.code, result.stderr);
}

const MISSING = 44;

/** Longer than any number `wc -c` prints: a first line this long is not a size, and the reply is refused. */
const SIZE_LINE_MAX = 64;

/**
 * Takes "SIZE\n" then the file's bytes, filled into one buffer of that size as they arrive (util/sized-buffer.ts:
 * the size is checked, and bytes beyond it, when the file grew meanwhile, are kept too).
 */
class SizedSink extends Writable {
  #head: Buffer = Buffer.alloc(0);
  #file: SizedBuffer | null = null;
  #refused = false;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#file) this.#file.add(chunk);
    else if (!this.#refused) {
      this.#head = Buffer.concat([this.#head, chunk]);
      const newline = this.#head.indexOf(10);
      if (newline >= 0 && newline <= SIZE_LINE_MAX) {
        // wc -c prints a number; were it anything else, the buffer would be empty and every byte kept as beyond it.
        this.#file = new SizedBuffer(announcedSize(this.#head.subarray(0, newline).toString("latin1")));
        this.#file.add(this.#head.subarray(newline + 1));
        this.#head = Buffer.alloc(0);
      } else if (this.#head.length > SIZE_LINE_MAX) this.#refused = true;
    }
    callback();
  }

  /** The file's bytes, or null when no size line came. */
  bytes(): Buffer | null {
    return this.#file?.bytes() ?? null;
  }
}

/** The bytes of a remote file, or null when it does not exist. */
export async function readRemoteFile(transport: Transport, path: string): Promise<Buffer | null> {
  const sink = new SizedSink();
  const command = ["sh", "-c", `[ -e "$1" ] || exit ${MISSING}; wc -c < "$1" && exec cat -- "$1"`, "sh", path];
  const result = await transport.exec(command, { stdout: sink });
  if (result.code === MISSING) return null;
  const bytes = result.code === 0 ? sink.bytes() : null;
  if (bytes === null) throw new RemoteCommandError(`Reading ${path}`, command.join(" "), result.code, result.stderr);
  return bytes;
}
