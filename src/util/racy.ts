// Caches keyed by a file's or a directory's change time (ctime) trust that any change gives a new one. A
// change made again within the file system clock's tick would keep it: like git's "racily clean" check, a
// stamp this recent is not trusted. Linux and macOS stamp times from a clock with a tick of a few
// milliseconds; 100 ms is ample. File systems that keep whole seconds only (ext3, HFS+, some NFS) have a
// tick of a second.
const RACY_MS = 100;

/** Whether something stamped with time timeMs could still change, as seen at nowMs, without its time changing. */
export function racilyRecent(timeMs: number, nowMs: number): boolean {
  return nowMs - timeMs <= (timeMs % 1000 === 0 ? 1000 : RACY_MS);
}
