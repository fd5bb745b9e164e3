"""slurmray code store: per-user content-addressed objects and immutable code trees (docs/architecture.md).

Run as `python3 -c <store_objects.py, then this file> MODE ...` (storeScript in src/codesync/store.ts; standard
library only, Python 3.6+), with UID, TAINTED, seal, intact and record_key from store_objects.py:
    apply BASE BASE_ID          stdin: a gzip stream of frames (below). Stores the objects it carries,
                                makes the manifest (full, or BASE_ID's plus a delta) and its tree (from
                                the spare of BASE_ID's tree when there is one). Prints "ok", "nobase"
                                (BASE_ID's manifest is gone, or the delta does not make the manifest
                                it names: send a full one) or "missing KEY..." (objects
                                to send again); after "ok", makes the spare of the new tree. An empty
                                stdin: prints "none".
    gc BASE MINUTES             Removes trees no job links to and objects no tree holds, untouched for
                                MINUTES, under the store's lock. Prints "<trees> <objects> <bytes>".
    send DIR [SUB...]           stdin: what the caller holds, "<size> <mtime_ns> <path>" NUL-terminated.
                                stdout: a gzip stream of the regular files under DIR (or only under
                                DIR/SUB for each SUB given; paths relative to DIR) that differ, each
                                b"F" + 8-byte path length + path + 8-byte size + 8-byte mtime_ns + bytes;
                                b"E" ends it. Symlinks are never followed nor sent. Exits 3 when the
                                folder holding DIR (without SUBs) or DIR/SUB is not there: the job's.

Layout under BASE: objects/<uid>/<key> (key: sha256 hex, plus "x" for an executable; 0444/0555),
trees/<uid>/<id>.manifest (0400) and trees/<uid>/<id>/ (hard links to objects; dirs 0500), and
trees/<uid>/.spare-<id>/ (a copy of a tree that no job links to, changed in place into the next one).
Both <uid> dirs are 0700 and owned by the user: nobody else can plant an entry in them, so an object
is checked for its hash when it arrives, and afterwards for owner, type, mode and tag, its bytes read again
only when those are not as stored.
A changed object (store_objects.py: tags) is never linked into a new tree, and a tree a job found changed
(trees/<uid>/<id>.tainted) is rebuilt by the next apply naming it (repair).

Frames: b"O" + flag (b"x" executable, b"-" not) + 32-byte sha256 + 8-byte length + bytes;
        b"M" or b"D" + the manifest's id (64 hex) + 8-byte length + a full manifest or a delta;
        b"E" ends the stream.
Manifest: records sorted by path bytes, each kind (f file, x executable, l symlink) + 64 hex + b" " +
path + NUL (+ target + NUL for a symlink). Its id is the sha256 of its bytes.
Delta: records to add or replace, then b"d" + path + NUL for each removed path.
"""
import errno
import fcntl
import gzip
import hashlib
import os
import stat
import sys
import time

def private_dir(path):
    """Creates path (0700) when missing; refuses one that is not the user's own private dir. Its parent
    (objects/, trees/) is private too, unless the base_dir is shared (sticky and open to all, like /tmp):
    then it is made like /tmp (1777), so each user makes their own dir there and nobody can remove or
    replace another's."""
    holder = os.path.dirname(path)
    if not os.path.isdir(holder):
        base = os.path.dirname(holder)
        os.makedirs(base, 0o700, exist_ok=True)
        shared = os.stat(base).st_mode & 0o1777 == 0o1777
        try:
            os.mkdir(holder, 0o700)
            if shared:
                os.chmod(holder, 0o1777)
        except FileExistsError:
            pass
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != UID or st.st_mode & 0o077:
        sys.stderr.write("slurmray: %s must be a directory of uid %d with mode 0700; fix or remove it\n" % (path, UID))
        sys.exit(3)
    return path


def read_exact(stream, n):
    data = stream.read(n)
    if len(data) != n:
        raise EOFError("the upload stream ended early")
    return data


def trusted(path, key):
    try:
        return intact(path, key)
    except FileNotFoundError:
        return False


def receive_object(stream, store, flag, digest, count):
    """Stores one object. It is written under its final name while 0600, which nothing trusts, and
    becomes read-only (fchmod, on this writer's own inode) only once its hash is checked: that is the
    commit. A file system create and chmod per object, where a temp file and rename cost two more."""
    size = int.from_bytes(read_exact(stream, 8), "big")
    key = digest.hex() + ("x" if flag == b"x" else "")
    final = os.path.join(store, key)
    if trusted(final, key):  # already stored: the trees holding it go on sharing its inode
        while size:
            size -= len(read_exact(stream, min(size, 1 << 20)))
        return
    try:
        os.unlink(final)  # a partial or untrustworthy leftover
    except FileNotFoundError:
        pass
    try:
        path = final
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another run is writing it: write ours aside and rename it over
        path = os.path.join(store, ".tmp-%d-%d" % (os.getpid(), count))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    h = hashlib.sha256()
    with os.fdopen(fd, "wb") as f:
        while size:
            chunk = read_exact(stream, min(size, 1 << 20))
            h.update(chunk)
            f.write(chunk)
            size -= len(chunk)
        if h.digest() != digest:
            os.unlink(path)
            raise ValueError("object %s arrived with other content (hash %s)" % (key, h.hexdigest()))
        f.flush()
        seal(f.fileno(), key, int(time.time()))
    if path != final:
        os.rename(path, final)


def parse_records(data):
    """{path: record bytes} of a manifest or delta, and the paths a delta removes."""
    records, removed, i = {}, [], 0
    while i < len(data):
        kind = data[i:i + 1]
        if kind == b"d":
            end = data.index(b"\0", i)
            removed.append(data[i + 1:end])
            i = end + 1
            continue
        end = data.index(b"\0", i + 66)
        if kind == b"l":
            end = data.index(b"\0", end + 1)
        records[data[i + 66:data.index(b"\0", i + 66)]] = data[i:end + 1]
        i = end + 1
    return records, removed


def manifest_bytes(records):
    return b"".join(records[p] for p in sorted(records))


def write_private(path, data, mode):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def make_writable(top):
    for dirpath, dirnames, _ in os.walk(top):
        os.chmod(dirpath, 0o700)
        for d in dirnames:
            if not os.path.islink(os.path.join(dirpath, d)):  # a shipped link: never chmod its target
                os.chmod(os.path.join(dirpath, d), 0o700)


def remove_tree(path):
    import shutil  # not imported up front: ~1.3 ms that most applies never use

    make_writable(path)
    shutil.rmtree(path, ignore_errors=True)


def link_object(store_fd, key, dir_fd, name):
    """Links the object `key` as `name` in dir_fd, both relative to open dirs: no path walk per file."""
    try:
        os.link(key, name, src_dir_fd=store_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno != errno.EMLINK:
            raise
        # An object linked more often than the file system allows: copied, with its mode.
        import shutil

        st = os.stat(key, dir_fd=store_fd, follow_symlinks=False)
        src = os.open(key, os.O_RDONLY, dir_fd=store_fd)
        dest = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=dir_fd)
        with os.fdopen(src, "rb") as fin, os.fdopen(dest, "wb") as fout:
            shutil.copyfileobj(fin, fout)
            fout.flush()
            os.utime(fout.fileno(), ns=(st.st_atime_ns, st.st_mtime_ns))
            os.fchmod(fout.fileno(), st.st_mode & 0o777)


def link_stored(store_fd, key, dir_fd, name):
    """Links the stored object `key` as `name`; FileNotFoundError when it was never sent, was removed by gc
    meanwhile, or is not trustworthy (a partial 0600 leftover, a changed object)."""
    if not intact(key, key, store_fd):
        raise FileNotFoundError(key)
    link_object(store_fd, key, dir_fd, name)


def open_dir(path):
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)


def leads_outside(path):
    """Whether a relative path (bytes) could lead outside its dir: empty, absolute, or with a "." or ".." part."""
    parts = path.split(b"/")  # an empty part also catches a leading "/" and an empty path
    return b"" in parts or b"." in parts or b".." in parts


def parent(path):
    """The dir holding a relative path (b"" for the top)."""
    return path.rpartition(b"/")[0]


def parents(path):
    """The dirs above a relative path, nearest first."""
    up = parent(path)
    while up:
        yield up
        up = parent(up)


def tree_dirs(paths):
    """The directories holding `paths`, sorted (a parent before its children); refuses a path that could
    lead outside the tree."""
    dirs = set()
    for path in paths:
        if leads_outside(path):
            raise ValueError("refused the path %r: it could lead outside the tree" % path)
        for up in parents(path):
            if up in dirs:
                break
            dirs.add(up)
    return sorted(dirs)


def link_files(store_fd, tmp, paths, records):
    """Links (or, for a symlink record, makes) each of `paths` under tmp, whose dirs exist; returns the keys
    of objects that are missing or not trustworthy. Sorted paths keep a directory's files together, so the
    directory being filled is held open and each file costs one lstat and one link relative to open dirs."""
    missing = []
    cur_folder, cur_fd = None, None
    try:
        for path in paths:
            folder, _, name = path.rpartition(b"/")
            if folder != cur_folder:
                if cur_fd is not None:
                    os.close(cur_fd)
                cur_fd = None  # not left dangling if the open fails
                cur_fd = open_dir(os.path.join(tmp, folder) if folder else tmp)
                cur_folder = folder
            rec = records[path]
            if rec[:1] == b"l":
                os.symlink(rec[67 + len(path):-1], name, dir_fd=cur_fd)
                continue
            key = record_key(rec)
            try:
                link_stored(store_fd, key, cur_fd, name)
            except FileNotFoundError:
                missing.append(key.decode())
    finally:
        if cur_fd is not None:
            os.close(cur_fd)
    return missing


FILES_PER_THREAD = 2000
MAX_THREADS = 8


def link_threads(count):
    """Threads for linking `count` files: link and lstat release the GIL, and on the network file systems of
    clusters (NFS, Lustre) each is a round trip to the server, so a few in flight at once divide the build's
    time (on this project's 2-core test machine, 2 threads took 0.63 s for 100,000 files where 1 took 0.95 s)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_THREADS, cpus, count // FILES_PER_THREAD))


def build_dir(trees, name):
    """The temp dir a tree named `name` is built in, this process's own."""
    return os.path.join(trees, ".build-%s-%d" % (name, os.getpid())).encode()


def repair(store, trees, name, records):
    """Rebuilds trees/<name>/, which a job found changed (trees/<name>.tainted), from the stored objects and swaps
    it in for the changed one (two renames: a job running from it finds the old files or the new ones, or, for
    the instant between the renames, none). A changed object is not trusted, so it is reported missing, to be
    sent again first. The tree's spare holds the same inodes: it goes. Its manifest, which the runner's check
    reads, is written again from the records (a damaged one would find changes in every later job). Under the
    store's lock exclusive, so that two applies never repair one tree at once. Returns the missing keys."""
    final = os.path.join(trees, name)
    with locked(trees, fcntl.LOCK_EX):
        if not os.path.exists(final + TAINTED):
            return []
        spare = os.path.join(trees, SPARE + name)
        if os.path.isdir(spare):
            remove_tree(spare)
        tmp = build_dir(trees, name)
        fill = whole_tree(tmp, records)
        os.mkdir(tmp, 0o700)
        missing = complete(store, tmp, final, fill, swap_in)
        if not missing:
            write_private(final + ".manifest", manifest_bytes(records), 0o400)
            os.unlink(final + TAINTED)
        return missing


def present(store, trees, name, records):
    """None when trees/<name>/ is not there; else it is touched (fresh again for gc), repaired when a job
    found it changed, and the missing keys of the repair are returned."""
    final = os.path.join(trees, name)
    if not os.path.isdir(final):
        return None
    os.utime(final)
    return repair(store, trees, name, records) if os.path.exists(final + TAINTED) else []


def whole_tree(tmp, records):
    """The fill (see complete) making a tree of `records` in the empty dir tmp: the dirs first, then the files
    linked by a few threads, each over a contiguous slice of the sorted paths. Refuses a path that could lead
    outside the tree before anything is made."""
    paths = sorted(records)
    dirs = tree_dirs(paths)

    def fill(store_fd):
        for d in dirs:
            os.mkdir(os.path.join(tmp, d), 0o700)
        threads = link_threads(len(paths))
        if threads == 1:
            missing = link_files(store_fd, tmp, paths, records)
        else:
            from concurrent.futures import ThreadPoolExecutor  # ~7 ms to import: only for a big tree

            step = -(-len(paths) // threads)
            with ThreadPoolExecutor(threads) as pool:
                slices = [pool.submit(link_files, store_fd, tmp, paths[i:i + step], records) for i in range(0, len(paths), step)]
                missing = [key for done in slices for key in done.result()]
        for d in reversed(dirs):
            os.chmod(os.path.join(tmp, d), 0o500)
        return missing

    return fill


def build_tree(store, trees, name, records):
    """Builds trees/<name>/ in a temp dir, renamed into place whole; returns the missing keys."""
    reused = present(store, trees, name, records)
    if reused is not None:
        return reused
    tmp = build_dir(trees, name)
    fill = whole_tree(tmp, records)
    os.mkdir(tmp, 0o700)
    return complete(store, tmp, os.path.join(trees, name), fill)


def complete(store, tmp, final, fill, put=None):
    """Runs fill(store_fd) in the temp dir tmp, then puts it in place as final (publish, or `put`); returns the
    missing keys that fill reports (then, as on any error, tmp is removed)."""
    store_fd = open_dir(store)
    try:
        missing = fill(store_fd)
        if missing:
            remove_tree(tmp)
            return missing
        (put or publish)(tmp, final)
        return []
    except BaseException:
        remove_tree(tmp)
        raise
    finally:
        os.close(store_fd)


def publish(tmp, final):
    """Renames a complete tree into place in one step; when another run published the same one first,
    ours is removed."""
    try:
        os.rename(tmp, final)
    except OSError as exc:
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
        remove_tree(tmp)
    os.chmod(final, 0o500)


def swap_in(tmp, final):
    """Puts the tree tmp in the place of the tree final, which is then removed."""
    old = os.path.join(os.path.dirname(final), ".old-%s-%d" % (os.path.basename(final), os.getpid()))
    os.rename(final, old)
    os.rename(tmp, final)
    os.chmod(final, 0o500)
    remove_tree(old)


SPARE = ".spare-"


def locked(trees, mode):
    """The store's lock file, held in `mode` until closed: gc holds it exclusive; submits (while they
    link a tree) and applies (while they claim a spare) hold it shared."""
    lock = open(os.path.join(trees, ".lock"), "a")
    fcntl.flock(lock, mode)
    return lock


def claim_spare(trees, base_id, new_id):
    """The spare of the base's tree, renamed to a build dir for new_id, or None when there is none.
    A spare (trees/.spare-<id>) is a private copy of a tree that no job ever links to, so it may be
    changed in place; the rename gives it to one apply alone. Claimed under the lock shared (gc removes
    spares under it exclusive) and touched, so that gc leaves the build alone. Not the spare of a tree a job
    found changed: it holds the same inodes until the tree is repaired."""
    tmp = build_dir(trees, new_id)
    with locked(trees, fcntl.LOCK_SH):
        if os.path.exists(os.path.join(trees, base_id + TAINTED)):
            return None
        try:
            os.rename(os.path.join(trees, SPARE + base_id), tmp)
        except OSError:
            return None
        os.utime(tmp)
    return tmp


def patch_tree(store_fd, tmp, base, records, changed, removed):
    """Turns tmp, a complete tree of the manifest `base`, into one of `records` (the base plus the delta:
    `changed` records and `removed` paths), touching only what differs: O(changes) where a build is
    O(files). Only paths of the base are unlinked, so every dir above them is a real dir of the tree, and
    a changed path under a path the manifest holds as a file or link is refused, so nothing is made or
    linked through a symlink. Returns the missing keys. Dirs opened for writing or made (0700) are set
    back to 0500 at the end."""
    opened = set()

    def writable(d):
        if d not in opened:
            os.chmod(os.path.join(tmp, d), 0o700)  # d == b"": tmp itself
            opened.add(d)

    def unlink(path):
        writable(parent(path))
        os.unlink(os.path.join(tmp, path))

    for path in removed:
        if path in base:
            unlink(path)
            for d in parents(path):  # a dir left empty goes too
                if os.listdir(os.path.join(tmp, d)):
                    break
                writable(parent(d))
                os.rmdir(os.path.join(tmp, d))
                opened.discard(d)
    missing, made = [], set()
    for path in sorted(changed):
        if leads_outside(path) or any(d in records for d in parents(path)):
            raise ValueError("refused the path %r: it could lead outside the tree" % path)
        if path in base:
            unlink(path)
        for d in reversed(list(parents(path))):
            if d not in made and not os.path.isdir(os.path.join(tmp, d)):
                writable(parent(d))
                os.mkdir(os.path.join(tmp, d), 0o700)
                opened.add(d)
            made.add(d)
        writable(parent(path))
        missing += link_files(store_fd, tmp, [path], records)
    for d in sorted(opened, reverse=True):
        os.chmod(os.path.join(tmp, d), 0o500)
    return missing


def derive_tree(store, trees, new_id, records, base_id, base, changed, removed):
    """Builds trees/<new_id>/ from the spare of the base's tree when there is one (O(changes)), else in
    full; returns the missing keys."""
    reused = present(store, trees, new_id, records)
    if reused is not None:
        return reused
    final = os.path.join(trees, new_id)
    tmp = claim_spare(trees, base_id, new_id)
    if tmp is None:
        return build_tree(store, trees, new_id, records)
    return complete(store, tmp, final, lambda store_fd: patch_tree(store_fd, tmp, base, records, changed, removed))


def read_base(trees, base_id):
    """The records of the base manifest, or None when it is gone or not what its id says."""
    if len(base_id) != 64 or base_id.strip("0123456789abcdef"):
        return None
    try:
        with open(os.path.join(trees, base_id + ".manifest"), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    return parse_records(data)[0] if hashlib.sha256(data).hexdigest() == base_id else None


def apply(base, base_id):
    store = private_dir(os.path.join(base, "objects", str(UID)))
    trees = private_dir(os.path.join(base, "trees", str(UID)))
    # Read before the upload: a sync starts this command while it still builds its manifest, so this
    # costs the client nothing (and is unused if a whole manifest comes).
    base_records = read_base(trees, base_id)
    if not sys.stdin.buffer.peek(1):
        print("none")  # started early by a sync that then found nothing to send
        return
    stream = gzip.GzipFile(fileobj=sys.stdin.buffer, mode="rb")
    full = delta = new_id = None
    count = 0
    while True:
        tag = read_exact(stream, 1)
        if tag == b"E":
            break
        if tag == b"O":
            flag = read_exact(stream, 1)
            count += 1
            receive_object(stream, store, flag, read_exact(stream, 32), count)
        elif tag in (b"M", b"D"):
            new_id = read_exact(stream, 64).decode("ascii")
            data = read_exact(stream, int.from_bytes(read_exact(stream, 8), "big"))
            full, delta = (data, None) if tag == b"M" else (None, data)
        else:
            raise ValueError("unknown frame %r in the upload stream" % tag)
    if new_id is None:
        raise ValueError("the upload stream holds no manifest")
    if full is not None:
        records, _ = parse_records(full)
    elif base_records is None:
        print("nobase")
        return
    else:
        changed, removed = parse_records(delta)
        records = dict(base_records)
        records.update(changed)
        for p in removed:
            records.pop(p, None)
    data = manifest_bytes(records)
    if hashlib.sha256(data).hexdigest() != new_id:
        if delta is not None:
            print("nobase")  # the client's idea of the base was wrong: it sends the whole manifest
            return
        raise ValueError("the manifest built remotely does not have the id %s" % new_id)
    manifest = os.path.join(trees, new_id + ".manifest")
    if not os.path.exists(manifest):
        write_private(manifest, data, 0o400)
    if delta is None:
        missing = build_tree(store, trees, new_id, records)
    else:
        missing = derive_tree(store, trees, new_id, records, base_id, base_records, changed, removed)
    if missing:
        print("missing " + " ".join(missing))
        return
    print("ok")
    sys.stdout.flush()
    # The client goes on once it reads "ok"; meanwhile the spare of the new tree is made for the next change.
    build_tree(store, trees, SPARE + new_id, records)


def listing(path):
    """The names in a dir; none when it is missing or another user's (a shared base_dir)."""
    try:
        return os.listdir(path)
    except OSError:
        return []


def referenced_trees(base):
    """Tree ids that a job dir's `code` link points to, in any project under base."""
    refs = set()
    projects = os.path.join(base, "projects")
    for project in listing(projects):
        jobs = os.path.join(projects, project, "jobs")
        for job in listing(jobs):
            try:
                refs.add(os.path.basename(os.readlink(os.path.join(jobs, job, "code"))))
            except OSError:
                pass
    return refs


def gc(base, minutes):
    trees = os.path.join(base, "trees", str(UID))
    store = os.path.join(base, "objects", str(UID))
    if not os.path.isdir(trees):
        print("0 0 0")
        return
    cutoff = time.time() - minutes * 60
    removed_trees = removed_objects = freed = 0
    with locked(private_dir(trees), fcntl.LOCK_EX):
        refs = referenced_trees(base)
        marks = []
        for name in os.listdir(trees):
            path = os.path.join(trees, name)
            if name.endswith(TAINTED):
                marks.append(path)  # a tree's mark goes with it, below
                continue
            tree_id = name[:-len(".manifest")] if name.endswith(".manifest") else name
            if name == ".lock" or tree_id in refs or os.lstat(path).st_mtime > cutoff:
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                remove_tree(path)
                removed_trees += not name.startswith(".")
            else:
                os.unlink(path)
        for path in marks:
            if not os.path.isdir(path.rpartition(".")[0]):
                os.unlink(path)
        for name in listing(store):
            path = os.path.join(store, name)
            st = os.lstat(path)
            if st.st_nlink == 1 and st.st_mtime <= cutoff:
                os.unlink(path)
                removed_objects += 1
                freed += st.st_size
    print("%d %d %d" % (removed_trees, removed_objects, freed))


def send(top, subs):
    """The files under top that the caller does not hold; with subs (paths under top, such as an array's
    element's "3/outputs"), only those under them. Paths stay relative to top."""
    for sub in subs:
        if leads_outside(os.fsencode(sub)):
            sys.stderr.write("refused the path %r: it could lead outside %s\n" % (sub, top))
            sys.exit(2)
    held = {}
    for item in sys.stdin.buffer.read().split(b"\0"):
        if item:
            size, mtime, path = item.split(b" ", 2)
            held[path] = (int(size), int(mtime))
    top = os.fsencode(top)
    roots = [os.path.join(top, os.fsencode(sub)) for sub in subs] or [top]
    # An outputs folder may be missing (the job wrote none); the job's folder holding it may not: then the
    # job's folder was removed (clean, retention, a site's purge), and "no outputs" would be a wrong answer.
    for root in roots:
        if not os.path.isdir(os.path.dirname(root)):
            sys.stderr.write("no such folder: %r\n" % os.path.dirname(root))
            sys.exit(3)
    out = gzip.GzipFile(fileobj=sys.stdout.buffer, mode="wb", compresslevel=6)
    for dirpath, dirnames, filenames in (step for root in roots if os.path.isdir(root) for step in os.walk(root)):
        for name in filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, top)
            size, mtime = held.get(rel, (None, 0))
            # Within a millisecond: the caller set the mtime it was sent through a float of seconds.
            if not stat.S_ISREG(st.st_mode) or (size == st.st_size and abs(mtime - st.st_mtime_ns) < 1000000):
                continue
            out.write(b"F" + len(rel).to_bytes(8, "big") + rel + st.st_size.to_bytes(8, "big")
                      + st.st_mtime_ns.to_bytes(8, "big"))
            left = st.st_size
            with open(path, "rb") as f:
                while left:
                    chunk = f.read(min(left, 1 << 20)) or b"\0" * left  # shrunk while sent: padded
                    out.write(chunk)
                    left -= len(chunk)
    out.write(b"E")
    out.close()


def main(argv):
    if len(argv) == 4 and argv[1] == "apply":
        apply(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "gc":
        gc(argv[2], int(argv[3]))
    elif len(argv) >= 3 and argv[1] == "send":
        send(argv[2], argv[3:])
    else:
        sys.stderr.write("usage: codestore.py apply BASE BASE_ID | gc BASE MINUTES | send DIR [SUB...]\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
