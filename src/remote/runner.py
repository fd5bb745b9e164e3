"""slurmray job runner: runs one entry of the researcher's project and records its outcome.

Usage: python3 runner.py JOB_DIR   (standard library only, Python 3.8+)

The caller starts it with stdout and stderr redirected to JOB_DIR/job.log, e.g.
    python3 -u runner.py "$JOB_DIR" >>"$JOB_DIR/job.log" 2>&1
The runner makes its own output unbuffered and UTF-8, so `-u` is not required.

JOB_DIR/job.json (a JSON object; unknown keys are ignored):
    entry        "path/to/file.py:fn" | "pkg.mod:fn" | "path/to/script.py" (script mode)
    args         object, passed as keyword arguments to fn            (default {})
    script_args  list of strings, sys.argv[1:] of a script             (default [])
    env          object of strings, set in os.environ before import    (default {})
    code_dir     absolute path of the job's read-only code tree: first on sys.path
    ray          null, or {"address": "host:port"}: RAY_ADDRESS is set, so the code's own ray.init(),
                 ray.init(address="auto") or first Ray call joins the job's cluster (the runner does
                 not connect itself: a second ray.init() in the code would then fail)
    pool         null, or "ray": multiprocessing.Pool is Ray's ray.util.multiprocessing.Pool, so an
                 unchanged Pool(...).map spreads over every node of the job
    result_repr_limit  optional, characters of repr kept for a non-JSON result (default 2000)
    outputs      optional, the outputs folder's name in the working dir (default "outputs")

The job runs in JOB_DIR/work, a working directory of its own: a symlink to each top-level entry of
code_dir, and `outputs` (or job.json's name for it), a link to JOB_DIR/outputs where the job's files to
bring back go. Whatever
else the job creates there is its own too; shipped files are read-only. Each file of code_dir the job
imports or opens, and the entry, is checked against the tree's manifest before Python uses it
(store_objects.py: TreeGuard); a changed one fails the job (ChangedCode).

Files written into JOB_DIR, each atomically (temp file + rename):
    status.json  {"state": "RUNNING", "pid", "started_at"} at start, then
                 {"state": "COMPLETED" | "FAILED" | "CANCELLED", "exit_code", "ended_at", "outputs"
                 (how many files the outputs folder holds), ...} at the end
    result.json  {"value": ...} when the value is JSON, else {"pickle": "result.pkl", "repr", "type"}
                 with result.pkl written first; a script's result is null
    error.json   {"type", "message", "traceback"} on failure
Exit codes: 0 success; 1 failure (or a script's own sys.exit code); 2 job.json missing or invalid;
128 + signal number when cancelled (SIGTERM: 143, SIGINT: 130).
"""
import os
import sys

# Non-ASCII args, env values and file names must work under any locale (LANG=C on a compute node
# with UTF-8 mode turned off): restart once in UTF-8 mode when Python did not pick UTF-8 itself.
if __name__ == "__main__" and not sys.flags.utf8_mode and sys.getfilesystemencoding() != "utf-8":
    os.execv(sys.executable, [sys.executable, "-X", "utf8"] + sys.argv)

# Python puts this file's directory first on sys.path. It also holds queue.py (the server
# scheduler), which would shadow the standard library's `queue` for the user's code and Ray.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

# The other imports come after that fix on purpose.
import contextlib
import datetime
import errno
import importlib
import importlib.machinery
import importlib.util
import io
import json
import pickle
import runpy
import signal
import traceback

# The root capability drop, run from its path beside this file: no module of that name, and no __pycache__
# written into the runtime dir, which stays as uploaded.
drop_override = runpy.run_path(os.path.join(_HERE, "slurmray_root_writes.py"))["drop_override"]

DEFAULT_REPR_LIMIT = 2000
OUTPUTS = "outputs"
PICKLE_PROTOCOL = 4  # readable by every Python 3.8+, whichever side unpickles
_MAIN_PID = os.getpid()


class InvalidJob(Exception):
    """job.json is missing, unreadable or malformed: a slurmray problem, exit code 2."""


class EntryError(Exception):
    """The entry cannot be found or called: a mistake in the entry, not inside the user's code."""


class ChangedCode(Exception):
    """A file of the job's code tree that it used changed on the target after it was shipped: whatever the job
    did, its outcome is not the submitted code's."""


class ResultError(Exception):
    """The function returned a value that can be neither JSON-encoded nor pickled."""


class Cancelled(BaseException):
    """Raised in the runner by SIGTERM/SIGINT. A BaseException, so `except Exception` in the
    user's code does not swallow the cancellation."""

    def __init__(self, signum):
        super().__init__("the job was cancelled (%s)" % signal.Signals(signum).name)
        self.exit_code = 128 + signum


def now():
    """UTC time in the format of JavaScript's Date.toISOString()."""
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def write_atomic(path, data):
    # Readers (the backends, possibly over NFS) see either no file or the whole file.
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_json(path, obj):
    write_atomic(path, json.dumps(obj, ensure_ascii=False).encode("utf-8"))


def unbuffered_utf8_stdio():
    """Every write reaches job.log at once (like `python -u`), as UTF-8 whatever the locale."""
    os.environ["PYTHONUNBUFFERED"] = "1"  # for the user's child processes
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    for name, fd in (("stdout", 1), ("stderr", 2)):
        old = getattr(sys, name)
        if old is not None:
            old.flush()  # the original stays referenced by sys.__stdout__/__stderr__, so fd stays open
        raw = io.FileIO(fd, "w", closefd=False)
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True, write_through=True)
        setattr(sys, name, stream)


def type_name(cls):
    """`ValueError`, `set`, `mymodule.MyClass`: builtins and the runner's own types unprefixed."""
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return "%s.%s" % (cls.__module__, cls.__qualname__)


@contextlib.contextmanager
def any_int_digits():
    """Integers of any length while reading the job's arguments and writing its result: since 3.11 (and
    3.10.7, 3.9.14, 3.8.14) Python refuses to convert more than 4,300 digits, a guard for untrusted text,
    and these are the user's own. The user's code runs under whatever limit it has."""
    if not hasattr(sys, "set_int_max_str_digits"):
        yield
        return
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(before)


def read_job(job_dir):
    """Loads job.json, checks its fields and fills defaults. Raises InvalidJob."""
    path = os.path.join(job_dir, "job.json")
    try:
        with open(path, encoding="utf-8") as f, any_int_digits():
            job = json.load(f)
    except (OSError, ValueError) as exc:
        raise InvalidJob("cannot read %s: %s" % (path, exc)) from None
    if not isinstance(job, dict):
        raise InvalidJob("%s must hold a JSON object" % path)
    job.setdefault("args", {})
    job.setdefault("script_args", [])
    job.setdefault("env", {})
    job.setdefault("ray", None)
    job.setdefault("pool", None)
    job.setdefault("result_repr_limit", DEFAULT_REPR_LIMIT)
    job.setdefault("outputs", OUTPUTS)
    checks = [
        ("entry", isinstance(job.get("entry"), str) and job["entry"] != "", "a non-empty string"),
        ("args", isinstance(job["args"], dict), "an object"),
        ("script_args", isinstance(job["script_args"], list)
         and all(isinstance(a, str) for a in job["script_args"]), "a list of strings"),
        ("env", isinstance(job["env"], dict)
         and all(isinstance(v, str) for v in job["env"].values()), "an object of strings"),
        ("code_dir", isinstance(job.get("code_dir"), str) and os.path.isabs(job["code_dir"]),
         "an absolute path"),
        ("ray", job["ray"] is None or (isinstance(job["ray"], dict)
                                       and isinstance(job["ray"].get("address"), str)),
         'null or {"address": "host:port"}'),
        ("pool", job["pool"] in (None, "ray"), 'null or "ray"'),
        ("result_repr_limit", type(job["result_repr_limit"]) is int and job["result_repr_limit"] > 0,
         "a positive integer"),
        ("outputs", isinstance(job["outputs"], str) and job["outputs"] not in ("", ".", "..")
         and "/" not in job["outputs"] and "\0" not in job["outputs"], "a folder name"),
    ]
    for key, ok, expected in checks:
        if not ok:
            raise InvalidJob("job.json: %r must be %s, got %r" % (key, expected, job.get(key)))
    if not os.path.isdir(job["code_dir"]):
        raise InvalidJob("job.json: code_dir %s is not a directory" % job["code_dir"])
    return job


def load_function(entry, code_dir, guard):
    """Resolves `path/to/file.py:fn` or `pkg.mod:fn` (fn may be dotted: `mod:Class.method`)."""
    target, _, attr = entry.rpartition(":")
    if target.endswith(".py") or "/" in target:
        path = os.path.join(code_dir, target)
        if not os.path.isfile(path):
            raise EntryError("entry file %s not found (looked for %s)" % (target, path))
        require_unchanged(guard, os.path.abspath(path))
        # The file's own directory goes on sys.path so `import sibling` works as under `python file.py`.
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        stem = os.path.splitext(os.path.basename(path))[0]
        # Registered under its stem so siblings importing it share one module and pickle finds
        # its classes; a private name when the stem is taken (json.py) or no identifier (my-job.py).
        name = stem if stem.isidentifier() and stem not in sys.modules else "__slurmray_entry__"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (target + ".").startswith(exc.name + "."):
                raise  # a module the entry itself imports is missing: the user's error, keep it
            raise EntryError("module %s not found in %s or the environment" % (target, code_dir)) from None
    fn = module
    for part in attr.split("."):
        if not hasattr(fn, part):
            public = sorted(n for n, v in vars(module).items()
                            if callable(v) and not n.startswith("_") and not isinstance(v, type(sys)))
            raise EntryError("%s has no attribute %r (callables found: %s)"
                             % (target, attr, ", ".join(public) or "none"))
        fn = getattr(fn, part)
    if not callable(fn):
        raise EntryError("%s:%s is a %s, not a function" % (target, attr, type_name(type(fn))))
    return fn


def make_workdir(job_dir, code_dir, outputs_name):
    """JOB_DIR/work: links to the code tree's top-level entries, and the job's own outputs folder
    (stored as JOB_DIR/outputs, whatever its name in the working dir)."""
    work = os.path.join(job_dir, "work")
    os.makedirs(os.path.join(job_dir, OUTPUTS), exist_ok=True)
    os.makedirs(work, exist_ok=True)  # a retried job finds it made
    links = {name: os.path.join(code_dir, name) for name in os.listdir(code_dir)}
    links[outputs_name] = os.path.join("..", OUTPUTS)  # a shipped folder of that name is hidden by the job's own
    for name, target in links.items():
        if not os.path.lexists(os.path.join(work, name)):
            os.symlink(target, os.path.join(work, name))
    return work


def explain_read_only(exc, code_dir):
    """A clearer message when the job tried to write a shipped (read-only) file, or, running as root, a file
    whose modes let only its owner write (slurmray_root_writes.py)."""
    if not isinstance(exc, PermissionError) or not exc.filename or not code_dir:
        return None
    path = os.path.realpath(exc.filename if isinstance(exc.filename, str) else os.fsdecode(exc.filename))
    tree = os.path.realpath(code_dir)
    if path == tree or path.startswith(tree + os.sep):
        return ("%s: shipped files are read-only (each job runs from its own snapshot of the project); "
                "write new files, e.g. under the outputs folder, instead" % exc)
    if os.geteuid() == 0 and exc.errno == errno.EACCES:
        return ("%s: a job running as root writes only where file modes allow it (slurmray keeps shipped "
                "files read-only for root too); write under the outputs folder, or make that path writable "
                "for root by its modes" % exc)
    return None


def guard_code(job):
    """Checks every file of the job's code tree that the job imports or opens, before Python uses it
    (store_objects.py: TreeGuard): the tree's files are shared with every job that ships the same content, and
    their owner can still chmod and write one (a job, or an editor's :w! on the cluster). Imports: a finder
    just before the path finder, so builtin and frozen modules keep theirs. Opens: an audit hook on "open"
    (Python's own opens; a C library opening a file itself is not seen), for a path into the tree or through
    the working dir's links to it. Both act only while `guard.live` (the job's code runs), so that recording
    the outcome (a traceback reads source files) never trips them. Returns the guard."""
    guard = runpy.run_path(os.path.join(_HERE, "store_objects.py"))["TreeGuard"](job["code_dir"])
    guard.live = False
    if guard.keys is None:
        return guard

    class GuardedPathFinder:
        @staticmethod
        def find_spec(name, path=None, target=None):
            spec = importlib.machinery.PathFinder.find_spec(name, path, target)
            if guard.live and spec is not None and spec.has_location:
                require_unchanged(guard, spec.origin)
            return spec

    finder = importlib.machinery.PathFinder
    sys.meta_path.insert(sys.meta_path.index(finder) if finder in sys.meta_path else len(sys.meta_path), GuardedPathFinder)

    work = os.path.join(job["job_dir"], "work", "")
    own = work + job["outputs"] + os.sep  # the job's own outputs, not the tree's

    def on_open(event, args):
        if event != "open" or not guard.live:
            return
        path = os.fspath(args[0]) if isinstance(args[0], os.PathLike) else args[0]
        path = os.fsdecode(path) if isinstance(path, bytes) else path
        if not isinstance(path, str):
            return  # a file descriptor
        path = os.path.normpath(path if os.path.isabs(path) else os.path.join(os.getcwd(), path))
        if path.startswith(work) and not (path + os.sep).startswith(own):
            path = guard.prefix + path[len(work):]
        if path.startswith(guard.prefix):
            require_unchanged(guard, path)

    sys.addaudithook(on_open)
    return guard


def require_unchanged(guard, path=None):
    """Raises ChangedCode when the guard finds `path` (when given), or found any file before, changed since it
    was shipped. The check's own opens (it may hash the file) are not the job's: the hooks rest meanwhile."""
    live, guard.live = guard.live, False
    try:
        unchanged = path is None or guard.check(path)
    finally:
        guard.live = live
    if unchanged and not guard.changed:
        return
    shown = ", ".join(guard.changed[:5]) + (" and %d more" % (len(guard.changed) - 5) if len(guard.changed) > 5 else "")
    raise ChangedCode("the project's files on the target were changed after they were shipped: %s (shipped files "
                      "are shared by every job that ships the same content; edit them locally, not on the cluster). "
                      "Run the job again: slurmray puts the shipped files back first." % shown)


def run_entry(job):
    """Imports and calls the entry; returns its value (None for a script). Fails, whatever the code did, when a
    file it imported or opened from the code tree had changed since it was shipped."""
    guard = guard_code(job)
    guard.live = True
    try:
        return call_entry(job, guard)
    finally:
        guard.live = False
        require_unchanged(guard)  # also when the code caught ChangedCode, failed or exited


def call_entry(job, guard):
    code_dir, entry = job["code_dir"], job["entry"]
    is_script = ":" not in entry
    if is_script and not entry.endswith(".py"):
        raise EntryError("entry %r must be path/to/file.py:function, package.module:function "
                         "or path/to/script.py" % entry)
    if is_script and job["args"]:
        raise InvalidJob("job.json: 'args' are for functions; a script takes 'script_args'")
    if not is_script and job["script_args"]:
        raise InvalidJob("job.json: 'script_args' are for scripts; a function takes 'args'")
    os.environ.update(job["env"])
    os.chdir(make_workdir(job["job_dir"], code_dir, job["outputs"]))
    sys.path.insert(0, code_dir)
    if job["ray"] is not None:
        os.environ["RAY_ADDRESS"] = job["ray"]["address"]
    if job["pool"] == "ray":
        use_ray_pool()
    if is_script:
        path = os.path.join(code_dir, entry)
        if not os.path.isfile(path):
            raise EntryError("script %s not found (looked for %s)" % (entry, path))
        require_unchanged(guard, os.path.abspath(path))
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        sys.argv = [path] + job["script_args"]
        runpy.run_path(path, run_name="__main__")
        return None
    fn = load_function(entry, code_dir, guard)
    sys.argv = [entry]
    return fn(**job["args"])


def use_ray_pool():
    """multiprocessing.Pool (and multiprocessing.pool.Pool) become Ray's Pool before the code is imported,
    so `from multiprocessing import Pool` in the code picks it up too. Ray's own pool workers ask for no
    CPU, so Ray may put them all on one node; these take one CPU each and are spread over the nodes."""
    import multiprocessing
    import multiprocessing.pool

    from ray.util.multiprocessing import Pool as RayPool  # only when asked: Ray is heavy

    class Pool(RayPool):
        def __init__(self, processes=None, *args, ray_remote_args=None, **kwargs):
            spread = {"num_cpus": 1, "scheduling_strategy": "SPREAD"}
            spread.update(ray_remote_args or {})
            super().__init__(processes, *args, ray_remote_args=spread, **kwargs)

    multiprocessing.Pool = Pool
    multiprocessing.pool.Pool = Pool


def store_result(job_dir, value, limit):
    """result.json holding the value, or result.pkl + result.json describing it."""
    try:
        with any_int_digits():
            text = json.dumps({"value": value}, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        pass  # sets, custom objects, NaN, cycles: keep the exact value in a pickle instead
    else:
        write_atomic(os.path.join(job_dir, "result.json"), text.encode("utf-8"))
        return
    try:
        data = pickle.dumps(value, protocol=PICKLE_PROTOCOL)
    except Exception as exc:
        raise ResultError("the function returned a %s, which neither JSON nor pickle can hold: %s"
                          % (type_name(type(value)), exc)) from None
    try:
        text = repr(value)
    except Exception as exc:
        text = "<%s whose repr failed: %s>" % (type_name(type(value)), exc)
    write_atomic(os.path.join(job_dir, "result.pkl"), data)
    write_json(os.path.join(job_dir, "result.json"),
               {"pickle": "result.pkl", "repr": text[:limit], "type": type_name(type(value))})


def _is_plumbing(filename):
    """Frames of the runner, importlib and runpy (a file, or "<frozen runpy>" since 3.11)."""
    return (filename in (run_entry.__code__.co_filename, runpy.__file__)
            or filename.startswith(("<frozen importlib", "<frozen runpy")))


def describe_failure(exc):
    """(error.json content, exit code). The traceback starts at the user's first frame."""
    code = 1
    message = str(exc)
    if isinstance(exc, InvalidJob):
        code = 2
    elif isinstance(exc, Cancelled):
        code = exc.exit_code
    elif isinstance(exc, SystemExit):
        code = exc.code if type(exc.code) is int and 0 < exc.code < 256 else 1
        message = "exited with code %d" % code if type(exc.code) is int else str(exc.code)
    tb = exc.__traceback__
    while tb is not None and _is_plumbing(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return {"type": type_name(type(exc)), "message": message, "traceback": text}, code


def _on_signal(signum, frame):
    if os.getpid() != _MAIN_PID:  # a fork made by the user's code: die as if no handler were set
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise Cancelled(signum)


def _set_signal_handlers(handler):
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: python3 runner.py JOB_DIR\n")
        return 2
    unbuffered_utf8_stdio()
    job_dir = os.path.abspath(argv[1])
    status_path = os.path.join(job_dir, "status.json")
    status = {"state": "RUNNING", "pid": os.getpid(), "started_at": now()}
    try:
        write_json(status_path, status)
    except OSError as exc:
        sys.stderr.write("slurmray runner: cannot write to job dir %s: %s\n" % (job_dir, exc))
        return 2
    _set_signal_handlers(_on_signal)
    not_dropped = drop_override()
    if not_dropped:
        sys.stderr.write("slurmray runner: warning: this job runs as root and keeps root's power to write "
                         "through file modes (%s): it could change shipped files for other jobs\n" % not_dropped)
    job = None
    try:
        job = read_job(job_dir)
        job["job_dir"] = job_dir
        try:
            value = run_entry(job)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise
            value = None  # sys.exit(0) is a success
        _set_signal_handlers(signal.SIG_IGN)  # the outcome is decided; only recording it remains
        store_result(job_dir, value, job["result_repr_limit"])
        code, state = 0, "COMPLETED"
    except BaseException as exc:  # everything, including Cancelled and SystemExit, is recorded
        _set_signal_handlers(signal.SIG_IGN)
        error, code = describe_failure(exc)
        error["message"] = explain_read_only(exc, (job or {}).get("code_dir")) or error["message"]
        sys.stderr.write(error["traceback"])
        write_json(os.path.join(job_dir, "error.json"), error)
        state = "CANCELLED" if isinstance(exc, Cancelled) else "FAILED"
    status.update(state=state, exit_code=code, ended_at=now(), outputs=count_outputs(job_dir))
    write_json(status_path, status)
    return code


def count_outputs(job_dir):
    """How many files the job left in its outputs folder: 0 lets the client skip fetching them."""
    count = 0
    for _, _, files in os.walk(os.path.join(job_dir, OUTPUTS)):
        count += len(files)
    return count


if __name__ == "__main__":
    sys.exit(main(sys.argv))
