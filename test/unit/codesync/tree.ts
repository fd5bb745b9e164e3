// Building small project trees on disk for codesync tests.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { encodeName } from "../../../src/codesync/names.js";
import { settle } from "../../helpers/settle.js";

/** Writes files (relative path → content; a path ending in "/" makes an empty dir) under a new temp dir. */
export function makeTree(files: Record<string, string>, prefix = "sr-cs-"): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  writeTree(root, files);
  return root;
}

export function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const full = encodeName(join(root, rel));
    if (rel.endsWith("/")) {
      mkdirSync(full, { recursive: true });
      continue;
    }
    mkdirSync(encodeName(dirname(join(root, rel))), { recursive: true });
    writeFileSync(full, content);
  }
}

export function link(root: string, rel: string, target: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  symlinkSync(target, join(root, rel));
}

export function git(root: string, ...args: string[]): Buffer {
  return execFileSync("git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
}

export function gitInit(root: string): void {
  git(root, "init", "-q");
}

/**
 * Sets every directory's and file's mtime a minute back (whole seconds, which utimes keeps exactly), then
 * waits until their change times, which nothing sets back, are no longer racily recent (settle): as
 * for a project whose files were last changed a while ago.
 */
export function age(path: string): void {
  setBack(path, new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000));
  settle(path);
}

function setBack(path: string, past: Date): void {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) setBack(full, past);
    else utimesSync(full, past, past);
  }
  utimesSync(path, past, past); // last: its change time is the latest of the tree's
}
