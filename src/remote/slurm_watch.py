"""slurmray: follow one Slurm job from the login node in a single command, until it ends.

Standard library only, Python 3.8+. Sent on stdin:  python - JOB_DIR SLURM_JOB_ID OFFSET [--outcome]

Prints, line by line (every line is either a log line or a control line):
    |<text>                            a line of JOB_DIR/job.log (decoded as UTF-8)
    @@slurmray:offset:<n>@@            the log's byte offset after the lines before it: a client that
                                       reconnects resumes from the last offset it saw, so no line is
                                       lost or repeated
    @@slurmray:queue:<json>@@          {"state", "reason", "position"} from squeue, when it changes
    @@slurmray:final:<json>@@          last line: {"runner": status.json or null, "slurm": {"state",
                                       "exit_code", "start", "end", "nodes"} or null, "sacct_error",
                                       and with --outcome "result" (result.json) and "error" (error.json)}
The job has ended when the runner's status.json says it completed or failed, or when Slurm no longer
lists it as active (a runner that says CANCELLED only saw a signal: Slurm tells which).
"""
import json
import os
import subprocess
import sys
import time

CHUNK = 1 << 20
ENDED = {
    "COMPLETED", "FAILED", "SPECIAL_EXIT", "CANCELLED", "REVOKED", "TIMEOUT", "DEADLINE",
    "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "PREEMPTED",
}
RUNNER_FINAL = {"COMPLETED", "FAILED"}
SQUEUE_EVERY_S = 3.0  # squeue is an RPC to slurmctld: asked rarely; status.json is read often
POSITION_EVERY_S = 15.0
SACCT_LAG_S = 10.0  # sacct learns of a job's end a few seconds after squeue
SLEEP_MIN_S, SLEEP_MAX_S = 0.2, 2.0
HEARTBEAT_S = 10.0  # a write now and then: a watcher whose client has gone then ends on EPIPE


def out(line):
    sys.stdout.buffer.write(line.encode("utf-8", "surrogateescape") + b"\n")


def control(kind, value):
    out("@@slurmray:%s:%s@@" % (kind, value))
    sys.stdout.buffer.flush()


def run(argv):
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 1, "", str(e)
    return done.returncode, done.stdout, done.stderr


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class Log:
    def __init__(self, path, offset):
        self.path = path
        self.offset = offset

    def pump(self, final=False):
        """Prints the new complete lines (every new byte when final). Returns True when it printed some."""
        printed = False
        try:
            with open(self.path, "rb") as f:
                while True:
                    f.seek(self.offset)
                    data = f.read(CHUNK)
                    # A partial last line waits for its newline, unless the job has ended or it fills a chunk.
                    end = len(data) if final or len(data) == CHUNK else data.rfind(b"\n") + 1
                    if end == 0:
                        break
                    lines = data[:end].decode("utf-8", "replace").split("\n")
                    if data[end - 1 : end] == b"\n":
                        lines.pop()
                    for line in lines:
                        out("|" + line)
                    self.offset += end
                    printed = True
        except FileNotFoundError:
            return False
        if printed:
            control("offset", self.offset)
        return printed


def squeue_state(job_id):
    """(state, reason, partition) from squeue, or None when squeue no longer lists the job."""
    code, stdout, stderr = run(["squeue", "-h", "-j", job_id, "-o", "%T|%r|%P"])
    if code != 0:
        return None if "nvalid job id" in stderr else ("UNKNOWN", stderr.strip(), "")
    line = stdout.strip().split("\n")[0]
    return tuple(line.split("|", 2)) if line.count("|") == 2 else None


def queue_position(job_id, partition):
    code, stdout, _ = run(["squeue", "-h", "-t", "PD", "-p", partition, "--sort=-p,i", "-o", "%i"])
    ids = stdout.split() if code == 0 else []
    return ids.index(job_id) + 1 if job_id in ids else None


def slurm_final(job_id, last_queue_state):
    """Slurm's final word on the job: squeue's ended state at once, else sacct (waiting out its lag)."""
    deadline = time.monotonic() + SACCT_LAG_S
    while True:
        code, stdout, stderr = run(["sacct", "-n", "-P", "-X", "-j", job_id, "-o", "JobID,State,ExitCode,Start,End,NodeList"])
        if code != 0:
            return fallback(last_queue_state), (stderr.strip() or "sacct exited with code %d" % code)
        for line in stdout.strip().split("\n"):
            fields = line.split("|")
            if len(fields) == 6 and fields[0] == job_id and fields[1].split()[0] in ENDED:
                return {"state": fields[1], "exit_code": fields[2], "start": fields[3], "end": fields[4], "nodes": fields[5]}, None
        if time.monotonic() > deadline:
            return fallback(last_queue_state), None
        time.sleep(1)


def fallback(last_queue_state):
    if last_queue_state and last_queue_state.split()[0] in ENDED:
        return {"state": last_queue_state, "exit_code": None, "start": None, "end": None, "nodes": None}
    return None


def watch(job_dir, job_id, offset, outcome):
    log = Log(os.path.join(job_dir, "job.log"), offset)
    status_path = os.path.join(job_dir, "status.json")
    last_queue, next_squeue, next_position, position = None, 0.0, 0.0, None
    sleep = SLEEP_MIN_S
    slurm, sacct_error = None, None
    next_heartbeat = time.monotonic() + HEARTBEAT_S
    while True:
        sleep = SLEEP_MIN_S if log.pump() else min(sleep * 1.5, SLEEP_MAX_S)
        if time.monotonic() >= next_heartbeat:
            next_heartbeat = time.monotonic() + HEARTBEAT_S
            control("offset", log.offset)
        runner = read_json(status_path)
        runner_state = runner and runner.get("state")
        if runner_state in RUNNER_FINAL:
            break
        now = time.monotonic()
        if runner_state == "CANCELLED":
            # The runner only saw a signal: Slurm says whether it was scancel, the time limit, a preemption...
            next_squeue = min(next_squeue, now)
        if now >= next_squeue:
            next_squeue = now + SQUEUE_EVERY_S
            queued = squeue_state(job_id)
            if queued is None or queued[0] in ENDED:
                runner = read_json(status_path)  # it may have finished between the two reads
                slurm, sacct_error = slurm_final(job_id, queued[0] if queued else last_queue and last_queue["state"])
                break
            if queued[0] == "PENDING" and now >= next_position:
                next_position = now + POSITION_EVERY_S
                position = queue_position(job_id, queued[2])
            current = {"state": queued[0], "reason": queued[1], "position": position if queued[0] == "PENDING" else None}
            if current != last_queue:
                control("queue", json.dumps(current))
                last_queue = current
        time.sleep(sleep)
    log.pump(final=True)
    final = {"runner": runner, "slurm": slurm, "sacct_error": sacct_error}
    if outcome:
        final["result"] = read_json(os.path.join(job_dir, "result.json"))
        final["error"] = read_json(os.path.join(job_dir, "error.json"))
    control("final", json.dumps(final, ensure_ascii=False))


if __name__ == "__main__":
    watch(sys.argv[1], sys.argv[2], int(sys.argv[3]), "--outcome" in sys.argv[4:])
