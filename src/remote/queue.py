#!/usr/bin/env python3
"""slurmray's fair queue for a shared server with no scheduler (target kind `server`).

Standard library only, Python 3.8+. It runs on the server as each user; every operation is ONE command that
prints ONE JSON document on stdout (human warnings go to stderr):

  queue.py [--queue-dir DIR] submit --job-dir D --cpus N --mem GB --gpus N [--time MIN] --limits JSON
           [--output FILE] -- CMD...                      -> {"id": ...}
  queue.py [--queue-dir DIR] [--limits JSON] poll ID...  -> {"jobs": [{id, state, position, reason, ...}]}
  queue.py [--queue-dir DIR] cancel ID                   -> {"id", "state", "cancelled"}
  queue.py [--queue-dir DIR] [--limits JSON] list        -> {"jobs": [every user's live job], "limits", "free"}
  queue.py [--queue-dir DIR] active                      -> {"ids": [own pending/running ids], "job_dirs": [theirs]}

Exit codes: 0 ok; 2 bad input (a request over the limits, an unsafe queue dir: nothing queued); 1 refused or
failed (another user's job, unknown id), with {"error": ...} on stdout and the message on stderr.

Layout. queue_dir (default /tmp/slurmray-queue) is a root-owned sticky dir (mode 1777) an admin creates once;
anything else is refused, since a dir some user created could be swapped or read-locked by them. In it, each
user has a dir named after them, owned by them, mode 0755, holding one file per waiting or running job,
<n>.json (mode 0644; the job id is "<user>.<n>"), and done/<n>.json once it has ended, so that decisions read
only live entries; the owner removes ended entries after 7 days. Readers ignore a dir not owned by the uid its
name names, and a file not owned by that uid, so nobody can write or forge another user's entries. Writes are
atomic (temp file, fsync, rename).

Lock. Decisions are serialized by flock on the queue dir itself: it is root-owned, so no user can chmod it or
replace it to block the others (a lock file in a sticky dir would belong to whoever created it first).

Who starts a waiting job. There is no daemon, and only a user's own process can start that user's job. So submit
forks a detached supervisor per job (double fork + setsid: it outlives ssh), recorded in the entry with its pid
and start time. While the job waits, the supervisor watches the user dirs' mtimes every 0.1 s, and on any change
(or every 2 s, to notice dead processes) takes the lock, computes the plan from everyone's entries, and starts
its job if the plan grants it. Every change (a submit, a cancel, a job's start or end, an owner tidying a dead
entry) is a rename into a user dir under the lock, so it wakes every waiter within 0.1 s: no job waits for a user
command. The supervisor starts the job in its own session and process group, with the granted core ids as its
CPU affinity, CUDA_VISIBLE_DEVICES set to the granted GPU ids, and SLURMRAY_CPUS / SLURMRAY_GPUS /
SLURMRAY_MEM_GB for Ray's sizing. It enforces the time limit (TIMEOUT), and the memory limit by a watchdog on the
resident memory of the job's session, shared pages split between their users (PSS; OUT_OF_MEMORY; not RLIMIT_AS,
which breaks Ray and CUDA). It rewrites the entry if it goes missing or corrupt, kills what the job leaves behind
in its session, and records the outcome under the lock.

Liveness. An entry counts only while its supervisor (or, when running, the job's leader) is alive: the pid
exists and its start time (/proc/PID/stat field 22) matches the one recorded, so a reused pid never counts.
Where /proc hides other users' processes (mounted with hidepid), the supervisor touches <n>.beat in its dir
every 0.2 s and another user's entry counts while that heartbeat is under 15 s old.
A dead entry is ignored by everyone and rewritten as FAILED by its owner's next operation. A corrupt or
unreadable file is skipped, never blocking anyone; its owner gets a warning and it is moved aside, and a live
supervisor rewrites its entry from memory.

Order (plan(), a pure function). Between users, the next job comes from the user whose dominant share is the
smallest: the largest of cpus, memory and GPUs held, each over its limit; ties go to the earliest submission
(never earlier than the file's ctime, which its owner cannot set). Within a user, first in, first out. The
first job that does not fit is the head; a later job may start early (backfill) only if it has a time limit,
fits in what is free, and does not delay the head: it ends before the head's estimated start (from running
jobs' time limits; a job with no limit is assumed to end at any moment), or it uses only what the head will
not need then. Core ids (0..cpus-1) and GPU ids are allocated exclusively, lowest first.

Limits come with each command (the target's config); a job is started with the limits it was submitted with.
The queue keeps users from colliding and from rewriting each other's entries; it cannot stop a user who runs
processes outside it.
"""
import os
import sys

# Run as `python3 queue.py`, this file's dir is sys.path[0], where it would shadow the stdlib module `queue`.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402
import fcntl  # noqa: E402
import json  # noqa: E402
import pwd  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import stat  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

DEFAULT_QUEUE_DIR = "/tmp/slurmray-queue"
ACTIVE = ("PENDING", "RUNNING")
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY")
KEEP_SECONDS = 7 * 86400  # an owner removes their finished entries after this
WAKE_SECONDS = 0.1  # how often a waiting supervisor looks at the user dirs' mtimes
RECHECK_SECONDS = 2.0  # a waiting supervisor re-plans at least this often (dead processes change no mtime)
WATCH_SECONDS = 0.2  # how often a running job is checked for its end and its time limit
MEM_CHECK_SECONDS = 0.5  # how often its RSS is summed (a scan of /proc: not every tick on a busy server)
KILL_GRACE_SECONDS = 2.0  # SIGTERM, then SIGKILL after this
STALE_SECONDS = 15.0  # where /proc hides other users' processes, a heartbeat older than this means dead
MAX_FILE_BYTES = 1 << 20
DONE = "done"  # ended jobs' entries move here, out of the way of every decision
EPS = 1e-9
ID_RE = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9._-]*)\.([0-9]{1,20})$")


class QueueError(Exception):
    """A refusal with its exit code (2: bad input, nothing done; 1: refused or failed)."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------------------------------------------
# The plan: pure functions of the limits, the running and the pending jobs.


def share(held, limits):
    """Dominant share: the largest of cpus, mem and gpus held, each over its limit."""
    parts = [held[0] / limits["cpus"], held[1] / limits["mem"]]
    if limits["gpus"]:
        parts.append(held[2] / len(limits["gpus"]))
    return max(parts)


def _fits(job, cpus, mem, gpus):
    return job["cpus"] <= cpus and job["mem"] <= mem + EPS and job["gpus"] <= gpus


def _expected_end(job, now):
    """When a running job ends at the latest; one with no time limit may end at any moment, so: now."""
    if not job.get("time"):
        return now
    return max(now, job["started"] + job["time"] * 60)


def _shadow(head, running, now_free, now):
    """The head's estimated start, and what is left over then beyond the head's need: (time, [cpus, mem, gpus])."""
    avail = list(now_free)
    for job in sorted(running, key=lambda j: _expected_end(j, now)):
        avail = [avail[0] + job["cpus"], avail[1] + job["mem"], avail[2] + job["gpus"]]
        if _fits(head, *avail):
            return _expected_end(job, now), [avail[0] - head["cpus"], avail[1] - head["mem"], avail[2] - head["gpus"]]
    return float("inf"), [0, 0.0, 0]


def free(limits, running):
    """What the running jobs leave free: {cpus, mem, gpus: [ids]}."""
    used_gpus = {g for j in running for g in j["gpu_ids"]}
    return {
        "cpus": limits["cpus"] - sum(j["cpus"] for j in running),
        "mem": limits["mem"] - sum(j["mem"] for j in running),
        "gpus": [g for g in limits["gpus"] if g not in used_gpus],
    }


def plan(limits, running, pending, now):
    """Decides which pending jobs start now, and the order of the others.

    limits: {cpus, mem, gpus: [ids]}. running: [{id, user, cpus, mem, gpus, cores, gpu_ids, started, time}].
    pending: [{id, user, cpus, mem, gpus, time, submitted, group, group_limit}]. time is in minutes (or None),
    mem in GB. A job of a group (the elements of one job array) waits while group_limit jobs of its group run;
    such a job is not the head: it waits for its own group, not for resources.
    Returns {"start": {id: {"cores": [...], "gpu_ids": [...]}}, "waiting": [ids in order], "reason": {id: str}}.
    """
    used_cores = {c for j in running for c in j["cores"]}
    free_cores = [c for c in range(limits["cpus"]) if c not in used_cores]
    left = free(limits, running)
    free_gpus, free_mem = left["gpus"], left["mem"]
    held = {}
    for j in running:
        h = held.setdefault(j["user"], [0, 0.0, 0])
        held[j["user"]] = [h[0] + j["cpus"], h[1] + j["mem"], h[2] + j["gpus"]]
    in_group = {}  # (user, group): running jobs; a group is one user's (another user's of that name is another)
    for j in running:
        if j.get("group"):
            key = (j["user"], j["group"])
            in_group[key] = in_group.get(key, 0) + 1
    queues = {}
    for j in sorted(pending, key=lambda j: (j["submitted"], j["id"])):
        queues.setdefault(j["user"], []).append(j)

    start, waiting, reason = {}, [], {}
    head, shadow_time, extra = None, None, None
    while queues:
        user = min(queues, key=lambda u: (share(held.get(u, [0, 0.0, 0]), limits), queues[u][0]["submitted"], u))
        job = queues[user].pop(0)
        if not queues[user]:
            del queues[user]
        group = (user, job["group"]) if job.get("group") else None
        if group and job.get("group_limit") and in_group.get(group, 0) >= job["group_limit"]:
            waiting.append(job["id"])
            reason[job["id"]] = "GroupLimit"
            continue
        now_free = [len(free_cores), free_mem, len(free_gpus)]
        if head is None:
            go = _fits(job, *now_free)
        else:
            ends_before = job.get("time") and now + job["time"] * 60 <= shadow_time
            go = bool(job.get("time")) and _fits(job, *now_free) and (ends_before or _fits(job, *extra))
            if go and not ends_before:
                extra = [extra[0] - job["cpus"], extra[1] - job["mem"], extra[2] - job["gpus"]]
        if go:
            start[job["id"]] = {"cores": free_cores[: job["cpus"]], "gpu_ids": free_gpus[: job["gpus"]]}
            free_cores, free_gpus = free_cores[job["cpus"] :], free_gpus[job["gpus"] :]
            free_mem -= job["mem"]
            h = held.get(user, [0, 0.0, 0])
            held[user] = [h[0] + job["cpus"], h[1] + job["mem"], h[2] + job["gpus"]]
            if group:
                in_group[group] = in_group.get(group, 0) + 1
            if head is not None:
                reason[job["id"]] = "Backfill"
            continue
        waiting.append(job["id"])
        if head is None:
            head = job
            shadow_time, extra = _shadow(job, running, now_free, now)
            reason[job["id"]] = "Resources"
        else:
            reason[job["id"]] = "Priority"
    return {"start": start, "waiting": waiting, "reason": reason}


def check_request(cpus, mem, gpus, time_min, limits):
    """Refuses (exit 2) a request that can never run here, naming the limit."""
    if cpus < 1:
        raise QueueError("--cpus must be at least 1 (got %d)" % cpus, 2)
    if mem <= 0:
        raise QueueError("--mem must be a positive number of GB (got %g)" % mem, 2)
    if gpus < 0:
        raise QueueError("--gpus must be 0 or more (got %d)" % gpus, 2)
    if time_min is not None and time_min <= 0:
        raise QueueError("--time must be a positive number of minutes (got %g)" % time_min, 2)
    over = "the request of %s exceeds this server's limit of %s (%s)"
    if cpus > limits["cpus"]:
        raise QueueError(over % ("%d cpus" % cpus, limits["cpus"], "limits.cpus"), 2)
    if mem > limits["mem"] + EPS:
        raise QueueError(over % ("%g GB memory" % mem, "%g GB" % limits["mem"], "limits.mem"), 2)
    if gpus > len(limits["gpus"]):
        raise QueueError(over % ("%d GPUs" % gpus, len(limits["gpus"]), "limits.gpus = %s" % limits["gpus"]), 2)


def parse_limits(text):
    """--limits '{"cpus": 8, "mem": 64, "gpus": [0, 1]}' -> a checked dict (exit 2 naming the bad key)."""
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise QueueError("--limits is not JSON (%s); expected {\"cpus\": N, \"mem\": GB, \"gpus\": [ids]}" % e, 2)
    if not isinstance(raw, dict):
        raise QueueError("--limits must be a JSON object {\"cpus\": N, \"mem\": GB, \"gpus\": [ids]}", 2)
    cpus, mem, gpus = raw.get("cpus"), raw.get("mem"), raw.get("gpus", [])
    if not _is_int(cpus) or cpus < 1:
        raise QueueError("limits.cpus must be an integer of at least 1 (got %r)" % (cpus,), 2)
    if not _is_num(mem) or mem <= 0:
        raise QueueError("limits.mem must be a positive number of GB (got %r)" % (mem,), 2)
    if not isinstance(gpus, list) or not all(_is_int(g) and g >= 0 for g in gpus) or len(set(gpus)) != len(gpus):
        raise QueueError("limits.gpus must be a list of distinct GPU ids, e.g. [0, 1] (got %r)" % (gpus,), 2)
    return {"cpus": cpus, "mem": float(mem), "gpus": gpus}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---------------------------------------------------------------------------------------------------------------
# Processes


def proc_stat(pid):
    """(state, pgrp, session, start time) of a process from /proc/PID/stat, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2 :].split()
    return rest[0].decode(), int(rest[2]), int(rest[3]), int(rest[19])


def alive(pid, start):
    """The process pid is alive and is the one that started at `start` (a reused pid is not)."""
    if not _is_int(pid) or pid <= 1:
        return False
    st = proc_stat(pid)
    return st is not None and st[0] != "Z" and st[3] == start


def session_pids(sid):
    """Pids of the live processes in session sid (the job's session: what its RSS and a kill cover)."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st is not None and st[2] == sid and st[0] != "Z":
                pids.append(int(name))
    return pids


def process_memory(pid):
    """A process's share of resident memory in bytes: PSS (shared pages split between their users, so Ray's
    object store mapped by every worker counts once), else RSS from statm on kernels without smaps_rollup."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/proc/%d/statm" % pid) as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def session_rss(sid):
    """Resident memory in bytes of the processes in session sid."""
    return sum(process_memory(pid) for pid in session_pids(sid))


def signal_session(sid, sig):
    """Signals the job's process group (its session leader's) and every other process left in its session."""
    try:
        os.killpg(sid, sig)
    except OSError:
        pass
    for pid in session_pids(sid):
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def stop_session(sid, grace=KILL_GRACE_SECONDS):
    """SIGTERM to the job's session, SIGKILL to what is left after `grace` seconds."""
    signal_session(sid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while session_pids(sid) and time.monotonic() < deadline:
        time.sleep(0.05)
    signal_session(sid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------------------------
# The queue dir, the lock and the entries


def me():
    uid = os.getuid()
    return uid, pwd.getpwuid(uid).pw_name


def check_queue_dir(qdir):
    """Refuses (exit 2) a queue dir that is not a root-owned sticky dir of mode 1777."""
    fix = "An admin creates it once with: sudo install -d -m 1777 -o root -g root %s" % qdir
    try:
        st = os.lstat(qdir)
    except FileNotFoundError:
        raise QueueError("the queue dir %s does not exist. %s" % (qdir, fix), 2)
    if not stat.S_ISDIR(st.st_mode):
        raise QueueError("the queue dir %s is not a directory. %s" % (qdir, fix), 2)
    if st.st_uid != 0 or stat.S_IMODE(st.st_mode) != 0o1777:
        raise QueueError(
            "the queue dir %s is unsafe (owner uid %d, mode %o; it must be owned by root with mode 1777, so that no "
            "user can hijack it). %s" % (qdir, st.st_uid, stat.S_IMODE(st.st_mode), fix),
            2,
        )


class Lock:
    """flock on the root-owned queue dir: one decision at a time."""

    def __init__(self, qdir):
        self.qdir = qdir

    def __enter__(self):
        self.fd = os.open(self.qdir, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def own_dir(qdir, uid, user):
    """The user's job dir (created 0755), refused when someone else holds its name or it is writable by others."""
    path = os.path.join(qdir, user)
    if owned_dir(path, uid, create=True) is None:
        raise QueueError("%s is not a directory that only you own and can write; ask the admin to remove it" % path, 1)
    return path


def owned_dir(path, uid, create):
    """path, a directory owned by uid and writable only by it (created 0755 when asked), or None."""
    if create:
        try:
            os.mkdir(path, 0o755)
            os.chmod(path, 0o755)
        except FileExistsError:
            pass
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
        return None
    return path


def entry_path(udir, job_id, done=False):
    """<user dir>/<n>.json while the job waits or runs; <user dir>/done/<n>.json once it has ended."""
    name = job_id.rsplit(".", 1)[1] + ".json"
    return os.path.join(udir, DONE, name) if done else os.path.join(udir, name)


def write_entry(udir, entry, done=False):
    """Atomic write: temp file, fsync, rename; 0644 so everyone can read it and only its owner write it."""
    path = entry_path(udir, entry["id"], done)
    tmp = os.path.join(os.path.dirname(path), ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        os.fchmod(fd, 0o644)
        os.write(fd, json.dumps(entry, sort_keys=True).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


NUM_FIELDS = ("cpus", "gpus")


def valid_entry(e, user, n):
    """An entry as written by write_entry, for `user` and file number n (anything else is corrupt)."""
    return (
        isinstance(e, dict)
        and e.get("id") == "%s.%s" % (user, n)
        and e.get("user") == user
        and e.get("state") in ACTIVE + TERMINAL
        and all(_is_int(e.get(k)) and e[k] >= 0 for k in NUM_FIELDS)
        and _is_num(e.get("mem"))
        and (e.get("time") is None or _is_num(e.get("time")))
        and (e.get("group") is None or isinstance(e.get("group"), str))
        and (e.get("group_limit") is None or (_is_int(e.get("group_limit")) and e["group_limit"] >= 1))
        and _is_num(e.get("submitted"))
        and isinstance(e.get("cores"), list)
        and all(_is_int(c) for c in e["cores"])
        and isinstance(e.get("gpu_ids"), list)
        and all(_is_int(g) for g in e["gpu_ids"])
        and isinstance(e.get("supervisor"), dict)
        and isinstance(e.get("limits"), dict)
        and (e["state"] != "RUNNING" or _is_num(e.get("started")))
    )


def read_entry(path, uid, user, n):
    """The entry in path, or raises ValueError (corrupt) / OSError (unreadable); files not owned by uid: None."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != uid:
            return None
        data = os.read(fd, MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError("larger than %d bytes" % MAX_FILE_BYTES)
    entry = json.loads(data.decode())
    if not valid_entry(entry, user, n):
        raise ValueError("not a queue entry")
    # A claimed submission time is never earlier than when the file appeared (ctime: its owner cannot set it).
    entry["submitted"] = max(entry["submitted"], st.st_ctime) if entry["state"] == "PENDING" else entry["submitted"]
    return entry


def entry_alive(e, visible, beat_age):
    """Whether an active entry's supervisor or job is alive: by /proc when its processes are visible to us, else
    by its heartbeat's age in seconds (None: no heartbeat)."""
    if e["state"] not in ACTIVE:
        return False
    if not visible:
        return beat_age is not None and beat_age < STALE_SECONDS
    sup = e["supervisor"]
    return alive(sup.get("pid"), sup.get("start")) or (e["state"] == "RUNNING" and alive(e.get("pid"), e.get("start")))


def beat_path(udir, entry):
    return os.path.join(udir, entry["id"].rsplit(".", 1)[1] + ".beat")


def beat_age(path, uid):
    """Seconds since the heartbeat file was touched (it must belong to uid), or None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return time.time() - st.st_mtime if stat.S_ISREG(st.st_mode) and st.st_uid == uid else None


def beat(udir, entry):
    """The supervisor's heartbeat: for readers that cannot see its processes in /proc."""
    path = beat_path(udir, entry)
    try:
        os.utime(path)
    except FileNotFoundError:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644))


class Queue:
    """Everyone's entries as read under the lock. Own corrupt files are moved aside with a warning."""

    def __init__(self, qdir):
        self.qdir = qdir
        self.uid, self.user = me()
        self.entries = {}
        self.warnings = []
        # pid 1 is root's: when we cannot read it, /proc hides other users' processes (hidepid).
        self.others_visible = proc_stat(1) is not None
        for name in sorted(os.listdir(qdir)):
            self._read_user(name)

    def _read_user(self, name):
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            return
        udir = os.path.join(self.qdir, name)
        try:
            st = os.lstat(udir)
        except OSError:
            return
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid:
            return
        try:
            files = os.listdir(udir)
        except OSError:
            return
        for f in files:
            if not (f.endswith(".json") and f[:-5].isdigit()):
                continue
            path = os.path.join(udir, f)
            try:
                entry = read_entry(path, uid, name, f[:-5])
            except (OSError, ValueError) as err:
                if uid == self.uid:
                    self._set_aside(path, err)
                continue
            if entry is not None:
                visible = uid == self.uid or self.others_visible
                age = None if visible else beat_age(beat_path(udir, entry), uid)
                entry["alive"] = entry_alive(entry, visible, age)
                self.entries[entry["id"]] = entry

    def _set_aside(self, path, err):
        aside = "%s.corrupt-%d" % (path, int(time.time()))
        self.warnings.append("skipped your corrupt queue entry %s (%s); moved to %s" % (path, err, aside))
        try:
            os.replace(path, aside)
        except OSError:
            pass

    def live(self, state):
        return [e for e in self.entries.values() if e["alive"] and e["state"] == state]

    def plan(self, limits, now):
        return plan(limits, self.live("RUNNING"), self.live("PENDING"), now)

    def default_limits(self):
        """The limits of the newest live entry (what the supervisors decide with), for poll/list without --limits."""
        for e in sorted(self.entries.values(), key=lambda e: -e["submitted"]):
            if e["alive"]:
                try:
                    return parse_limits(json.dumps(e["limits"]))
                except QueueError:
                    continue
        return None

    def tidy_own(self):
        """The owner's housekeeping: a dead active entry becomes FAILED."""
        udir = os.path.join(self.qdir, self.user)
        for e in list(self.entries.values()):
            if e["user"] == self.user and e["state"] in ACTIVE and not e["alive"]:
                finish(udir, e, "FAILED", "lost: its supervisor and process are gone (killed, or the server rebooted)")

    def find(self, job_id):
        """An active entry, else the ended one from its owner's done dir (checked like any entry), else None."""
        if job_id in self.entries:
            return self.entries[job_id]
        user, n = job_id.rsplit(".", 1)
        try:
            uid = pwd.getpwnam(user).pw_uid
        except KeyError:
            return None
        udir = os.path.join(self.qdir, user)
        if owned_dir(udir, uid, False) is None or owned_dir(os.path.join(udir, DONE), uid, False) is None:
            return None
        try:
            entry = read_entry(entry_path(udir, job_id, done=True), uid, user, n)
        except (OSError, ValueError):
            return None
        if entry is not None:
            entry["alive"] = False
        return entry


def prune_done(udir, now):
    """Removes the owner's ended entries older than KEEP_SECONDS."""
    done = os.path.join(udir, DONE)
    try:
        names = os.listdir(done)
    except OSError:
        return
    for name in names:
        path = os.path.join(done, name)
        try:
            if now - os.lstat(path).st_mtime > KEEP_SECONDS:
                os.unlink(path)
        except OSError:
            pass


def finish(udir, entry, state, reason, exit_code=None):
    """Records the end: the entry moves to done/ (kept if already there: a crash between the two steps)."""
    if owned_dir(os.path.join(udir, DONE), os.getuid(), create=True) is None:
        raise QueueError("%s/%s is not a directory that only you own and can write" % (udir, DONE), 1)
    if not os.path.exists(entry_path(udir, entry["id"], done=True)):
        entry.update(state=state, reason=reason, ended=time.time(), exit_code=exit_code, alive=False)
        write_entry(udir, stored(entry), done=True)
    for path in (entry_path(udir, entry["id"]), beat_path(udir, entry)):
        try:
            os.unlink(path)
        except OSError:
            pass


def ended(udir, entry):
    """Whether the job's end is recorded (by a cancel, or by its owner tidying it)."""
    return os.path.exists(entry_path(udir, entry["id"], done=True))


def stored(entry):
    return {k: v for k, v in entry.items() if k != "alive"}


# ---------------------------------------------------------------------------------------------------------------
# The supervisor: waits for its turn, runs the job, enforces its limits, records the outcome.


def dir_signature(qdir):
    sig = []
    try:
        for d in os.scandir(qdir):
            try:
                sig.append((d.name, d.stat(follow_symlinks=False).st_mtime_ns))
            except OSError:
                pass
    except OSError:
        pass
    return sorted(sig)


def supervise(qdir, entry, command, output):
    udir = os.path.join(qdir, entry["user"])
    proc = wait_and_start(qdir, udir, entry, command, output)
    if proc is None:
        return

    def keep_entry():
        restore_if_lost(qdir, udir, entry)
        beat(udir, entry)

    state, reason, code = watch(proc, entry, keep_entry)
    # Whatever the job left in its session goes with it: its resources are about to be handed on.
    signal_session(proc.pid, signal.SIGKILL)
    with Lock(qdir):
        finish(udir, entry, state, reason, code)


def wait_and_start(qdir, udir, entry, command, output):
    """Re-plans whenever the queue changes; starts the job when the plan says so. None when it was cancelled."""
    last, checked = None, 0.0
    while True:
        beat(udir, entry)
        sig = dir_signature(qdir)
        if sig != last or time.monotonic() - checked > RECHECK_SECONDS:
            last, checked = sig, time.monotonic()
            with Lock(qdir):
                queue = Queue(qdir)
                current = queue.entries.get(entry["id"])
                if ended(udir, entry) or (current is not None and current["state"] != "PENDING"):
                    return None
                if current is None:
                    write_entry(udir, stored(entry))  # recover an entry lost to corruption
                now = time.time()
                waiting = queue.live("PENDING") + ([] if current else [entry])
                grant = plan(entry["limits"], queue.live("RUNNING"), waiting, now)
                if entry["id"] in grant["start"]:
                    return start_job(udir, entry, grant["start"][entry["id"]], command, output, now)
        time.sleep(WAKE_SECONDS)


def start_job(udir, entry, grant, command, output, now):
    env = dict(os.environ)
    env.update(
        CUDA_VISIBLE_DEVICES=",".join(str(g) for g in grant["gpu_ids"]),
        SLURMRAY_CPUS=str(entry["cpus"]),
        SLURMRAY_GPUS=str(entry["gpus"]),
        SLURMRAY_MEM_GB="%g" % entry["mem"],
        SLURMRAY_CORES=",".join(str(c) for c in grant["cores"]),
        SLURMRAY_QUEUE_JOB_ID=entry["id"],
    )
    mask = set(grant["cores"]) & os.sched_getaffinity(0)

    def child_setup():
        # Core ids beyond this machine's CPUs (limits.cpus larger than the cores) get no mask rather than none.
        if mask:
            os.sched_setaffinity(0, mask)

    try:
        out = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            proc = subprocess.Popen(
                command,
                cwd=entry["job_dir"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
                preexec_fn=child_setup,
            )
        finally:
            os.close(out)
    except OSError as err:
        finish(udir, entry, "FAILED", "could not start %s: %s" % (command[0], err), 127)
        return None
    entry.update(
        state="RUNNING",
        reason="",
        pid=proc.pid,
        start=proc_stat(proc.pid)[3],
        started=now,
        cores=grant["cores"],
        gpu_ids=grant["gpu_ids"],
    )
    write_entry(udir, stored(entry))
    return proc


def restore_if_lost(qdir, udir, entry):
    """Rewrites the running job's entry if it went missing or corrupt: others would not count its resources."""
    n = entry["id"].rsplit(".", 1)[1]
    path = entry_path(udir, entry["id"])
    try:
        read_entry(path, os.getuid(), entry["user"], n)
        return
    except (OSError, ValueError):
        pass
    with Lock(qdir):
        # Under the lock: a missing entry may be a cancel that just moved it to done/; only a lost one is rewritten.
        try:
            read_entry(path, os.getuid(), entry["user"], n)
        except (OSError, ValueError):
            if not ended(udir, entry):
                write_entry(udir, stored(entry))


def watch(proc, entry, keep_entry):
    """Waits for the job, enforcing its time limit and memory; returns (state, reason, exit code)."""
    limit_bytes = entry["mem"] * (1 << 30)
    deadline = entry["started"] + entry["time"] * 60 if entry.get("time") else None
    next_mem_check = 0.0
    while True:
        keep_entry()
        code = proc.poll()
        if code is not None:
            if code == 0:
                return "COMPLETED", "", 0
            return "FAILED", ("killed by signal %d" % -code) if code < 0 else "exit code %d" % code, code
        if deadline is not None and time.time() > deadline:
            stop_session(proc.pid)
            proc.wait()
            return "TIMEOUT", "time limit of %g minutes reached" % entry["time"], proc.returncode
        if time.monotonic() >= next_mem_check:
            next_mem_check = time.monotonic() + MEM_CHECK_SECONDS
            rss = session_rss(proc.pid)
            if rss > limit_bytes:
                signal_session(proc.pid, signal.SIGKILL)
                proc.wait()
                used = "used %.2f GB, over its %g GB (--mem)" % (rss / (1 << 30), entry["mem"])
                return "OUT_OF_MEMORY", used, proc.returncode
        time.sleep(WATCH_SECONDS)


def spawn_supervisor(qdir, entry, command, output):
    """Double fork + setsid: the supervisor outlives this command and the ssh connection. Returns (pid, start)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setsid()
            if os.fork():
                os._exit(0)
            log = os.open(os.path.join(entry["job_dir"], "queue.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.chdir("/")  # pin no mount while the job runs
            # Closing our copy of the lock fd keeps the lock: the submit command holds it until the entry is written.
            os.closerange(3, w)
            os.closerange(w + 1, 65536)
            os.write(w, str(os.getpid()).encode())
            os.close(w)
            entry["supervisor"] = {"pid": os.getpid(), "start": proc_stat(os.getpid())[3]}
            supervise(qdir, entry, command, output)
        except BaseException as err:  # the supervisor's log is the only place left to say why
            sys.stderr.write("slurmray queue supervisor of %s failed: %r\n" % (entry["id"], err))
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    data = b""
    while True:
        chunk = os.read(r, 64)
        if not chunk:
            break
        data += chunk
    os.close(r)
    if not data:
        raise QueueError("the supervisor of %s did not start (see %s/queue.log)" % (entry["id"], entry["job_dir"]))
    sup = int(data)
    return sup, proc_stat(sup)[3]


# ---------------------------------------------------------------------------------------------------------------
# Commands


def new_id(udir, user):
    n = int(time.time() * 1000)
    while any(os.path.exists(entry_path(udir, "%s.%d" % (user, n), done)) for done in (False, True)):
        n += 1
    return "%s.%d" % (user, n)


def cmd_submit(args, qdir):
    """Queues one job per --job-dir (an array's elements: one lock, one process), all with the same request."""
    if args.limits is None:
        raise QueueError("submit needs --limits '{\"cpus\": N, \"mem\": GB, \"gpus\": [ids]}'", 2)
    limits = parse_limits(args.limits)
    check_request(args.cpus, args.mem, args.gpus, args.time, limits)
    if args.group_limit is not None and (args.group_limit < 1 or not args.group):
        raise QueueError("--group-limit needs --group and must be at least 1", 2)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise QueueError("submit needs the command to run after --", 2)
    if args.output and len(args.job_dir) > 1:
        raise QueueError("--output names one job's log: leave it out with several --job-dir (each gets JOB_DIR/job.log)", 2)
    jobs = []
    for given in args.job_dir:  # every dir checked before anything is queued
        job_dir = os.path.abspath(given)
        if not os.path.isdir(job_dir) or not os.access(job_dir, os.W_OK):
            raise QueueError("--job-dir %s is not a directory you can write to" % job_dir, 2)
        output = os.path.abspath(args.output or os.path.join(job_dir, "job.log"))
        if not os.path.isdir(os.path.dirname(output)):
            raise QueueError("--output %s: its directory does not exist" % output, 2)
        jobs.append((job_dir, output, command + [job_dir] if args.pass_job_dir else command))
    uid, user = me()
    with Lock(qdir):
        udir = own_dir(qdir, uid, user)
        queue = Queue(qdir)
        queue.tidy_own()
        prune_done(udir, time.time())
        queued = []
        try:
            for job_dir, output, job_command in jobs:
                entry = new_entry(udir, user, args, limits, job_dir, job_command)
                pid, start = spawn_supervisor(qdir, entry, job_command, output)
                entry["supervisor"] = {"pid": pid, "start": start}
                queued.append(entry)
                write_entry(udir, entry)
        except BaseException:
            withdraw(udir, queued)
            raise
    ids = [e["id"] for e in queued]
    return {"id": ids[0], "ids": ids}, queue.warnings


def new_entry(udir, user, args, limits, job_dir, job_command):
    return {
        "id": new_id(udir, user),
        "user": user,
        "state": "PENDING",
        "reason": "",
        "cpus": args.cpus,
        "mem": float(args.mem),
        "gpus": args.gpus,
        "time": args.time,
        "group": args.group,
        "group_limit": args.group_limit,
        "limits": limits,
        "job_dir": job_dir,
        "command": job_command,
        "submitted": time.time(),
        "cores": [],
        "gpu_ids": [],
        "pid": None,
        "start": None,
        "started": None,
        "ended": None,
        "exit_code": None,
        "supervisor": {},
    }


def cancel_entry(udir, e, reason):
    """Ends one of the caller's jobs, under the lock: the supervisor first, so it cannot record anything after
    us; then the job's whole session; then the end is recorded CANCELLED."""
    sup = e["supervisor"]
    if alive(sup.get("pid"), sup.get("start")):
        os.kill(sup["pid"], signal.SIGKILL)
    if e["state"] == "RUNNING" and alive(e.get("pid"), e.get("start")):
        stop_session(e["pid"])
    finish(udir, e, "CANCELLED", reason)


def withdraw(udir, entries):
    """All or nothing: when one job of a submit cannot be queued, those already queued by it are cancelled
    (their supervisors wait for the lock the submit holds, so none has started a job), so no job runs that
    the caller was told had failed."""
    for e in entries:
        try:
            cancel_entry(udir, e, "withdrawn: another job of the same submit could not be queued")
        except (OSError, QueueError):
            pass


def job_view(e, order):
    pos = order["waiting"].index(e["id"]) + 1 if e["alive"] and e["id"] in order["waiting"] else None
    reason = e.get("reason") or ""
    if e["state"] == "PENDING":
        reason = order["reason"].get(e["id"], "Starting") if e["alive"] else "lost"
    return {
        "id": e["id"],
        "user": e["user"],
        "state": e["state"] if e["alive"] or e["state"] in TERMINAL else "FAILED",
        "position": pos,
        "reason": reason,
        "cpus": e["cpus"],
        "mem": e["mem"],
        "gpus": e["gpus"],
        "time": e.get("time"),
        "pid": e.get("pid"),
        "submitted": e["submitted"],
        "started": e.get("started"),
        "ended": e.get("ended"),
        "cores": e["cores"],
        "gpu_ids": e["gpu_ids"],
        "exit_code": e.get("exit_code"),
    }


def _locked_queue(qdir, tidy):
    """Reads the queue under the lock; the owner's dead entries are tidied when asked (and the user has a dir)."""
    uid, user = me()
    with Lock(qdir):
        queue = Queue(qdir)
        if tidy and os.path.isdir(os.path.join(qdir, user)):
            queue.tidy_own()
    return queue


def _order(queue, limits):
    if limits is None:
        return {"start": {}, "waiting": [], "reason": {}}
    return queue.plan(limits, time.time())


def _limits(queue, limits_text):
    """--limits when given, else those the newest live job was submitted with (None on an empty queue)."""
    return parse_limits(limits_text) if limits_text else queue.default_limits()


def cmd_poll(args, qdir):
    for job_id in args.ids:
        if not ID_RE.match(job_id):
            raise QueueError("%r is not a queue job id (expected USER.NUMBER)" % job_id, 2)
    queue = _locked_queue(qdir, tidy=True)
    order = _order(queue, _limits(queue, args.limits))
    jobs = []
    for job_id in args.ids:
        e = queue.find(job_id)
        unknown = {"id": job_id, "state": "UNKNOWN", "reason": "no such job in the queue"}
        jobs.append(job_view(e, order) if e else unknown)
    return {"jobs": jobs}, queue.warnings


def cmd_list(args, qdir):
    queue = _locked_queue(qdir, tidy=False)
    limits = _limits(queue, args.limits)
    order = _order(queue, limits)
    jobs = [job_view(e, order) for e in queue.entries.values() if e["alive"]]
    jobs.sort(key=lambda j: (j["state"] != "RUNNING", j["position"] or 0, j["started"] or j["submitted"]))
    for j in jobs:
        j["since"] = j["started"] if j["state"] == "RUNNING" else j["submitted"]
    result = {"jobs": jobs, "limits": limits, "free": free(limits, queue.live("RUNNING")) if limits else None}
    return result, queue.warnings


def cmd_active(args, qdir):
    queue = _locked_queue(qdir, tidy=True)
    _, user = me()
    mine = sorted((e for e in queue.entries.values() if e["user"] == user and e["alive"] and e["state"] in ACTIVE), key=lambda e: e["id"])
    return {"ids": [e["id"] for e in mine], "job_dirs": [e["job_dir"] for e in mine]}, queue.warnings


def cmd_cancel(args, qdir):
    m = ID_RE.match(args.id)
    if not m:
        raise QueueError("%r is not a queue job id (expected USER.NUMBER)" % args.id, 2)
    uid, user = me()
    if m.group(1) != user:
        raise QueueError("job %s belongs to user %s; you can cancel only your own jobs" % (args.id, m.group(1)), 1)
    with Lock(qdir):
        queue = Queue(qdir)
        if args.id in queue.entries and not queue.entries[args.id]["alive"]:
            queue.tidy_own()
            del queue.entries[args.id]
        e = queue.find(args.id)
        if e is None:
            raise QueueError("no job %s in the queue %s" % (args.id, qdir), 1)
        if e["state"] in TERMINAL:
            return {"id": args.id, "state": e["state"], "cancelled": False}, queue.warnings
        cancel_entry(os.path.join(qdir, user), e, "cancelled by %s" % user)
    return {"id": args.id, "state": "CANCELLED", "cancelled": True}, queue.warnings


class ArgumentParser(argparse.ArgumentParser):
    """Bad flags are a QueueError too, so they also come out as JSON with exit code 2."""

    def error(self, message):
        raise QueueError("%s: %s" % (self.prog, message), 2)


def parser():
    p = ArgumentParser(prog="queue.py", description="slurmray's fair queue for a shared server")
    p.add_argument("--queue-dir", default=DEFAULT_QUEUE_DIR)
    p.add_argument("--limits", help='the server\'s limits as JSON: {"cpus": N, "mem": GB, "gpus": [ids]}')
    sub = p.add_subparsers(dest="op", required=True)
    s = sub.add_parser("submit")
    s.add_argument("--job-dir", required=True, action="append", help="repeat to queue one job per dir (an array)")
    s.add_argument("--pass-job-dir", action="store_true", help="append each job's dir to its command")
    s.add_argument("--cpus", type=int, default=1)
    s.add_argument("--mem", type=float, required=True, help="GB")
    s.add_argument("--gpus", type=int, default=0)
    s.add_argument("--time", type=float, help="minutes; enforced (TIMEOUT); needed to backfill")
    s.add_argument("--limits", dest="limits_submit")
    s.add_argument("--output", help="the job's stdout and stderr (default: JOB_DIR/job.log)")
    s.add_argument("--group", help="a name shared by the elements of one job array")
    s.add_argument("--group-limit", type=int, help="at most this many jobs of --group run at once")
    s.add_argument("command", nargs=argparse.REMAINDER)
    po = sub.add_parser("poll")
    po.add_argument("ids", nargs="+")
    c = sub.add_parser("cancel")
    c.add_argument("id")
    sub.add_parser("list")
    sub.add_parser("active")
    return p


COMMANDS = {"submit": cmd_submit, "poll": cmd_poll, "cancel": cmd_cancel, "list": cmd_list, "active": cmd_active}


def main(argv):
    try:
        args = parser().parse_args(argv)
        if getattr(args, "limits_submit", None):
            args.limits = args.limits_submit
        qdir = os.path.abspath(args.queue_dir)
        check_queue_dir(qdir)
        result, warnings = COMMANDS[args.op](args, qdir)
    except QueueError as err:
        sys.stderr.write("slurmray queue: %s\n" % err)
        print(json.dumps({"error": str(err)}))
        return err.code
    for w in warnings:
        sys.stderr.write("slurmray queue: warning: %s\n" % w)
    if warnings:
        result["warnings"] = warnings
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
