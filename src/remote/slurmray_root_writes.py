"""A job running as root writes only where file modes let it, like any other user.

Standard library only, Python 3.8+, Linux. runner.py and ray_cluster.py run it from its path beside them
(runpy.run_path) and call `drop_override()` before the researcher's code or Ray starts.

Why: a job's code tree is hard links to the user's store objects, shared by every job (and array element)
of the same code, and it stays unchanged only because its files are 0444 and its dirs 0500. Root's
CAP_DAC_OVERRIDE ignores those modes: a root job writing `results/out.csv` into a shipped folder changed
the file for every other job, and the next run of unchanged code saw a file that is not in the project.
Dropping that one capability (from the effective, permitted and inheritable sets, and from the bounding
set so that no program the job runs gets it back) makes such a write fail with EACCES, which runner.py
turns into a clear message. Root keeps CAP_DAC_READ_SEARCH (it still reads everything), owns its files,
and keeps every other capability; what it loses is writing into files and dirs of other users whose modes
do not allow it.
"""
import os

CAP_DAC_OVERRIDE = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
_CAP_V3 = 0x20080522  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set


def drop_override():
    """Drops CAP_DAC_OVERRIDE from this process and all it starts. Returns None when done (or when there
    was nothing to drop: not root), else why it could not be done."""
    if os.geteuid() != 0:
        return None
    import ctypes  # only for root: ~5 ms

    libc = ctypes.CDLL(None, use_errno=True)
    if not all(hasattr(libc, name) for name in ("capget", "capset", "prctl")):
        return "this system has no Linux capabilities"

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    data = (Data * 2)()
    if libc.capget(ctypes.byref(Header(_CAP_V3, 0)), data) != 0:
        return "capget failed (errno %d)" % ctypes.get_errno()
    keep = ~(1 << CAP_DAC_OVERRIDE) & 0xFFFFFFFF
    data[0].effective &= keep
    data[0].permitted &= keep
    data[0].inheritable &= keep
    # The bounding set first (it needs CAP_SETPCAP, still held). Without it, a program the job starts as
    # root would get the capability back; no_new_privs then stops that instead.
    if libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0 and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return "prctl failed (errno %d)" % ctypes.get_errno()
    if libc.capset(ctypes.byref(Header(_CAP_V3, 0)), data) != 0:
        return "capset failed (errno %d)" % ctypes.get_errno()
    return None
