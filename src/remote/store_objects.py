"""slurmray's stored objects: what a file of the code store is, and the check of a job's code tree.

Shared by codestore.py (its remote command runs this file's text, then codestore.py's) and runner.py (which
runs this file alone, with runpy: it is small, so a job's start does not pay for compiling the whole store).
Standard library only, Python 3.6+.

Tag: the nanoseconds of an object's mtime, set from its hash when it is stored (its seconds stay the time it
arrived). The owner can still chmod a shipped file and write it (an editor's :w! does): that write changes
the mtime, so a stat that is not as stored sends the check to the bytes (intact). The runner checks each file
of its tree that the job imports or opens (TreeGuard); when one has changed it marks the tree tainted
(trees/<uid>/<id>.tainted), and the next apply naming that tree rebuilds it from fresh objects.
"""
import hashlib
import os
import stat

UID = os.getuid()


NS = 1000000000


def tag(key):
    """The nanoseconds of the mtime of the object `key` (hex, str or bytes), from its hash: a later write gives
    the same nanoseconds by a one-in-a-billion chance, and a copy keeping another object's mtime does not give
    them at all. Odd, so never the 0 that a file system keeping whole seconds reads back."""
    return int(key[:8], 16) % (NS // 2) * 2 + 1


def seal(fd, key, seconds):
    """Makes the open file the stored object `key` (str): its mtime `seconds`, tagged, and read-only (0555 for
    an executable's key)."""
    mtime = seconds * NS + tag(key)
    os.utime(fd, ns=(mtime, mtime))
    os.fchmod(fd, 0o555 if key.endswith("x") else 0o444)


def object_ok(st, key):
    """Whether a stat is of the object `key` as it was stored: the user's own regular file, read-only, its mtime
    tagged. A file system that keeps whole seconds only (nanoseconds 0) cannot hold the tag: mode alone there."""
    return (stat.S_ISREG(st.st_mode) and st.st_uid == UID and not st.st_mode & 0o222
            and st.st_mtime_ns % NS in (tag(key), 0))


def intact(name, key, dir_fd=None):
    """Whether the file `name` is the object `key`: object_ok, or else the user's own regular file whose bytes
    hash to key, whose mode and tag are then put back (touched, or made writable and not written, or stored
    before tags). One lstat, and a read only when that stat is not as stored. Key: str or bytes."""
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if object_ok(st, key):
        return True
    if not stat.S_ISREG(st.st_mode) or st.st_uid != UID:
        return False
    key = key.decode() if isinstance(key, bytes) else key
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        h = hashlib.sha256()
        for chunk in iter(lambda: os.read(fd, 1 << 20), b""):
            h.update(chunk)
        if h.hexdigest() != key[:64]:
            return False
        seal(fd, key, st.st_mtime_ns // NS)
        return True
    finally:
        os.close(fd)


def record_key(rec):
    """The object key of a file record (b"f" or b"x")."""
    return rec[1:65] + (b"x" if rec[:1] == b"x" else b"")


TAINTED = ".tainted"


def manifest_keys(data):
    """{path: object key} of a manifest's files (bytes; its symlinks left out)."""
    keys, parts, i = {}, data.split(b"\0"), 0
    while i < len(parts) - 1:
        rec = parts[i]
        if rec[:1] == b"l":
            i += 2  # its target is the next part
            continue
        keys[rec[66:]] = record_key(rec)
        i += 1
    return keys


class TreeGuard:
    """For the runner: checks a file of the job's code tree (a module it imports, a file it opens, the entry)
    before it is used. A file whose bytes are no longer its object's (written after it was stored) is listed
    in `changed`, and the tree is marked tainted, for the next apply naming it to repair. A tree without its
    manifest (not one of the store's) is not checked."""

    def __init__(self, tree):
        self.prefix = os.path.abspath(tree) + os.sep
        self.changed = []
        self.keys = None
        try:
            with open(self.prefix[:-1] + ".manifest", "rb") as f:
                self.keys = manifest_keys(f.read())
        except FileNotFoundError:
            pass

    def check(self, path):
        """Whether the file at `path` (absolute) may be used: outside the tree, not a shipped file, or as stored."""
        if self.keys is None or not path.startswith(self.prefix):
            return True
        rel = os.fsencode(path[len(self.prefix):])
        key = self.keys.get(rel)
        if key is None:
            return True
        try:
            if intact(path, key):
                return True
        except OSError:
            pass
        if os.fsdecode(rel) not in self.changed:
            self.changed.append(os.fsdecode(rel))
        open(self.prefix[:-1] + TAINTED, "ab").close()
        return False
