"""slurmray: one long-running watcher per connection, following every job the client watches.

Standard library only, Python 3.8+. Started as one command whose stdin first carries this source
(a decimal byte count, a newline, the source: BOOTSTRAP in src/backends/watch/watcher.ts), then commands, one JSON
object a line:
    {"op": "poll", "tag": TAG, "command": SH, "every": SECONDS}
                                                     the scheduler's batched status command for ALL watched
                                                     jobs (the client resends it, with a new TAG, when the
                                                     set changes); run with /bin/sh every SECONDS, and soon
                                                     after a change
    {"op": "add", "id": ID, "dir": JOB_DIR, "offset": N}  follow JOB_DIR/job.log from byte N
                                                     ("quiet": true: only the end, with no log bytes and
                                                     no result or error; the live jobs view's watch;
                                                     "quiet" with "outcome": true: no log bytes, but the
                                                     result and error at the end; map's elements)
    {"op": "remove", "id": ID}                       stop following (nothing more is sent for it)
    {"op": "finish", "id": ID}                       the client decided from a poll that the job has ended:
                                                     send its end as below
End of stdin ends the watcher.

Everything it sends is a frame: an ASCII header line "TYPE ID LENGTH\\n", then exactly LENGTH bytes. Job
output only ever travels inside a payload, so nothing a job prints can be taken for a frame.
    ready - N          the watcher runs (payload: its protocol version)
    log ID N           the next N bytes of job.log, exactly as they are in the file
    poll TAG N         the poll command's stdout (then "poll-exit TAG N": its exit code, a space, the end
                       of its stderr)
    runner ID N        status.json when the job ended (empty when there is none)
    result-size ID N   payload: result.json's size in bytes (absent when there is no result.json)
    result ID N        the next N bytes of result.json
    error-size ID N    the same for error.json
    error ID N
    end ID 0           the last frame of a job: its log has been sent to the end
The job has ended when the runner's status.json says COMPLETED or FAILED: the watcher sees it within
about TICK_S of the runner writing it, because stat() of a file every TICK_S costs nothing on a login node.
A runner saying CANCELLED only saw a signal: the next poll (run at once) tells why.
"""
import json
import os
import queue
import subprocess
import sys
import threading
import time

VERSION = b"1"
TICK_S = 0.1
CHUNK = 1 << 18  # log and result bytes per frame: the client holds at most one frame at a time
TICK_BYTES = 1 << 22  # log bytes per job per tick: a job printing fast does not hold up the others
RUNNER_FINAL = ("COMPLETED", "FAILED")
POLL_OUTPUT_MAX = 1 << 24

out = sys.stdout.buffer
out_lock = threading.Lock()


def send(kind, job_id, payload=b""):
    with out_lock:
        out.write(b"%s %s %d\n" % (kind.encode(), job_id.encode(), len(payload)))
        out.write(payload)
        out.flush()


def read_small(path):
    try:
        with open(path, "rb") as f:
            return f.read(1 << 20)
    except OSError:
        return None


class Job:
    def __init__(self, job_id, job_dir, offset, quiet=False, outcome=False):
        self.id = job_id
        self.dir = job_dir
        self.offset = offset
        self.quiet = quiet
        self.outcome = outcome or not quiet
        self.log = None
        self.status_stamp = None
        self.runner_state = None

    def pump(self, limit=None):
        """Sends the log's new bytes (up to limit). True when more may be waiting."""
        if self.quiet:
            return False
        if self.log is None:
            try:
                self.log = open(os.path.join(self.dir, "job.log"), "rb")
            except OSError:
                return False
        self.log.seek(self.offset)
        sent = 0
        while limit is None or sent < limit:
            data = self.log.read(CHUNK)
            if not data:
                return False
            send("log", self.id, data)
            self.offset += len(data)
            sent += len(data)
        return True

    def status_changed(self):
        """The runner's state when status.json changed since the last look, else None."""
        path = os.path.join(self.dir, "status.json")
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self.status_stamp:
            return None
        self.status_stamp = stamp
        try:
            state = json.loads(read_small(path) or b"{}").get("state")
        except (ValueError, AttributeError):
            return None
        self.runner_state = state if isinstance(state, str) else None
        return self.runner_state

    def finish(self):
        """Sends the rest of the log, status.json, result.json (in frames) and error.json, then "end"."""
        self.pump()
        send("runner", self.id, read_small(os.path.join(self.dir, "status.json")) or b"")
        if self.outcome:
            self.send_file("result")
            self.send_file("error")
        send("end", self.id)
        self.close()

    def send_file(self, name):
        """NAME.json in frames of CHUNK bytes, after its size; nothing when it does not exist."""
        try:
            with open(os.path.join(self.dir, name + ".json"), "rb") as f:
                # One open file: its size and bytes are those of one version, even if it is replaced.
                size = os.fstat(f.fileno()).st_size
                send(name + "-size", self.id, str(size).encode())
                while size > 0:
                    data = f.read(min(CHUNK, size))
                    if not data:
                        break
                    send(name, self.id, data)
                    size -= len(data)
        except OSError:
            pass

    def close(self):
        if self.log is not None:
            self.log.close()


class Poller:
    """Runs the scheduler's batched command in a thread, so a slow squeue never delays the log or the end."""

    def __init__(self):
        self.command = None
        self.tag = "-"
        self.every = 3.0
        self.next_at = 0.0
        self.thread = None

    def configure(self, tag, command, every):
        self.tag = tag
        self.command = command or None
        self.every = max(float(every), 0.5)
        self.soon()

    def soon(self):
        self.next_at = 0.0

    def tick(self, now):
        if self.command is None or now < self.next_at or (self.thread and self.thread.is_alive()):
            return
        self.next_at = now + self.every
        self.thread = threading.Thread(target=self.run, args=(self.tag, self.command), daemon=True)
        self.thread.start()

    @staticmethod
    def run(tag, command):
        try:
            done = subprocess.run(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            code, stdout, stderr = done.returncode, done.stdout, done.stderr
        except (OSError, subprocess.TimeoutExpired) as e:
            code, stdout, stderr = 1, b"", str(e).encode()
        send("poll", tag, stdout[:POLL_OUTPUT_MAX])
        send("poll-exit", tag, b"%d %s" % (code, stderr[-4000:]))


def read_commands(commands):
    for line in sys.stdin.buffer:
        commands.put(line)
    commands.put(None)


def main():
    commands = queue.Queue()
    threading.Thread(target=read_commands, args=(commands,), daemon=True).start()
    jobs = {}
    poller = Poller()
    send("ready", "-", VERSION)
    busy = False
    while True:
        deadline = time.monotonic() + (0 if busy else TICK_S)
        while True:
            try:
                line = commands.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                break
            if line is None:
                return
            command = json.loads(line)
            op, job_id = command.get("op"), command.get("id")
            if op == "poll":
                poller.configure(str(command.get("tag", "-")), command.get("command"), command.get("every", 3.0))
            elif op == "add":
                jobs[job_id] = Job(job_id, command["dir"], int(command["offset"]), command.get("quiet") is True, command.get("outcome") is True)
            elif op == "remove" and job_id in jobs:
                jobs.pop(job_id).close()
            elif op == "finish" and job_id in jobs:
                jobs.pop(job_id).finish()
        busy = False
        for job in list(jobs.values()):
            busy = job.pump(TICK_BYTES) or busy
            state = job.status_changed()
            if state in RUNNER_FINAL:
                jobs.pop(job.id).finish()
            elif state == "CANCELLED":
                poller.soon()  # the runner only saw a signal: the scheduler says which
        poller.tick(time.monotonic())


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
