"""slurmray Ray bootstrap inside a Slurm job: one Ray node per allocated node, and a readiness check.

Standard library only, Python 3.8+. Started by the job's sbatch.sh with the job env's python:
    ray_cluster.py token JOB_DIR                        with Ray >= 2.52, write a fresh per-job token to
                                                        JOB_DIR/ray/token (0600) and exit 0; with older
                                                        Ray, warn that the ports are open and exit 3
    ray_cluster.py node  JOB_DIR INDEX [HEAD_ADDRESS]  run one Ray node (INDEX 0 = head) until its stdin
                                                        closes (or SIGTERM)
    ray_cluster.py head  JOB_DIR                        wait for the head, print its address
    ray_cluster.py ready JOB_DIR NODES                  wait until NODES nodes are alive, then set
                                                        job.json's "ray" to {"address": ...}

Why it looks like this (see the project's notes on running several Ray nodes on one host):
- every node gets its own short --temp-dir (unix socket paths are limited to 107 bytes) and its own ports,
  chosen from the Slurm job id and the node index and checked free, because nodes of several jobs (and,
  on test beds, all nodes of one job) may share a host: Ray's fixed default ports would collide;
- `ray start --block` keeps every Ray process a child of this wrapper, so Slurm tracks them, and stopping
  it stops exactly this node's Ray processes (never `ray stop`, which kills by name, machine-wide). The
  stop request is the end of stdin (sbatch.sh closes a FIFO that srun forwards), so only `ray start` gets
  the SIGTERM and stops its processes in order;
- RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S=0 (set by sbatch.sh) makes that stop take seconds, not 30 s;
- readiness never depends on Ray's human output (coloured since Ray 2.60): each node is started with the
  IP we chose (--node-ip-address), the head is ready when its GCS port accepts connections, and `ready`
  asks Ray itself how many nodes are alive;
- the cluster is private to the job: sbatch.sh sets RAY_AUTH_MODE=token and RAY_AUTH_TOKEN_PATH to the
  token file `token` wrote, on every node and for the driver, so a connection without it is refused;
- each node's resources are the allocation: --num-cpus from SLURM_CPUS_PER_TASK, --num-gpus from
  SLURMRAY_RAY_GPUS, --memory from SLURM_MEM_PER_NODE (MB) less the object store.

Files in JOB_DIR/ray/: head.json {"address", and "dashboard" (host:port) with SLURMRAY_RAY_DASHBOARD=1}, node-INDEX.log (Ray's output), node-INDEX.exit (written
when a node's Ray ended without being asked to, so `head`/`ready` fail at once instead of timing out).
Failures of `head` and `ready` are also written to JOB_DIR/error.json (type RayStartError), so the job's
outcome says why it failed.
Environment: SLURM_JOB_ID, SLURM_CPUS_PER_TASK, SLURM_MEM_PER_NODE, SLURMRAY_RAY_GPUS (per node) — or, on the
server kind, the queue's grant: SLURMRAY_QUEUE_JOB_ID, SLURMRAY_CPUS, SLURMRAY_MEM_GB, SLURMRAY_GPUS —
SLURMRAY_RAY_OBJECT_STORE_MB (object store size per node), SLURMRAY_RAY_START_TIMEOUT (seconds, default 180),
SLURMRAY_RAY_DASHBOARD=1 (start the dashboard on the head; needs ray[default]).
"""
import os
import sys

# Python puts this file's directory first on sys.path. It also holds queue.py (the server kind's scheduler),
# which would shadow the standard library's `queue` for Ray.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import importlib.util  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import runpy  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

# The root capability drop, run from its path beside this file: no module of that name, and no __pycache__
# written into the runtime dir, which stays as uploaded.
drop_override = runpy.run_path(os.path.join(_HERE, "slurmray_root_writes.py"))["drop_override"]

# Ports: blocks of BLOCK ports in [LOW, LOW + BLOCKS * BLOCK), below Linux's ephemeral range (32768+)
# so that outgoing connections do not take them between the check and Ray's bind.
LOW, BLOCK, BLOCKS = 20000, 200, 63
SINGLE_PORTS = (
    "port",  # the GCS (head only)
    "ray-client-server-port",
    "dashboard-port",
    "dashboard-agent-grpc-port",
    "dashboard-agent-listen-port",
    "node-manager-port",
    "object-manager-port",
    "metrics-export-port",
    "runtime-env-agent-port",
)
WORKER_PORTS_FROM = 10  # offset in the block: worker ports are [block + 10, block + BLOCK)
STOP_GRACE_S = 10
POLL_S = 0.5


def say(message):
    sys.stderr.write("slurmray: %s\n" % message)
    sys.stderr.flush()


def fail(message, job_dir=None):
    """Ends this command; with job_dir, the reason also becomes the job's error.json."""
    say(message)
    if job_dir is not None:
        try:
            write_json_atomic(os.path.join(job_dir, "error.json"), {"type": "RayStartError", "message": message, "traceback": ""})
        except OSError:
            pass
    sys.exit(1)


def ray_dir(job_dir):
    return os.path.join(job_dir, "ray")


def write_json_atomic(path, value):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("", port))
        except OSError:
            return False
    return True


def choose_ports(job_id, index):
    """The first block, in a job-and-node-dependent order, whose ports are all free."""
    first = (job_id * 5 + index) % BLOCKS
    for step in range(BLOCKS):
        start = LOW + ((first + step * 16) % BLOCKS) * BLOCK  # 16 and 63 are coprime: every block is tried
        if all(port_free(p) for p in range(start, start + BLOCK)):
            ports = {name: start + i for i, name in enumerate(SINGLE_PORTS)}
            ports["min-worker-port"] = start + WORKER_PORTS_FROM
            ports["max-worker-port"] = start + BLOCK - 1
            return ports
    fail("no free block of %d ports in %d-%d for Ray on this node" % (BLOCK, LOW, LOW + BLOCKS * BLOCK))


def node_ip():
    """This node's address as other nodes reach it: its host name's address (what cluster nodes resolve each
    other by), else loopback. Ray itself swaps a loopback address for a routable one; its GCS listens on
    every interface, so the head's port is reachable either way."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def ray_version():
    try:
        from importlib.metadata import version
        return tuple(int(p) for p in re.findall(r"\d+", version("ray"))[:3])
    except Exception:
        return None


def make_token(job_dir):
    """A per-job token (0600) when Ray can use one; exit 3 (and a warning) when it cannot."""
    found = ray_version()
    if found is None or found < (2, 52):
        say("warning: Ray %s has no token authentication (2.52+): this job's Ray ports accept anyone "
            "who can reach the node" % (".".join(map(str, found)) if found else "(version unknown)"))
        sys.exit(3)
    import secrets
    os.makedirs(ray_dir(job_dir), mode=0o700, exist_ok=True)
    path = os.path.join(ray_dir(job_dir), "token")
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    os.replace(path + ".tmp", path)


def grant():
    """What the scheduler granted this node: (job number, cpus, memory MB or None, gpus), from Slurm's
    variables, else from the server queue's."""
    queue_id = os.environ.get("SLURMRAY_QUEUE_JOB_ID", "")
    number = os.environ.get("SLURM_JOB_ID") or queue_id.rpartition(".")[2] or str(os.getpid())
    cpus = os.environ.get("SLURM_CPUS_PER_TASK") or os.environ.get("SLURMRAY_CPUS") or "1"
    mem = os.environ.get("SLURM_MEM_PER_NODE")
    if not (mem and mem.isdigit()) and os.environ.get("SLURMRAY_MEM_GB"):
        mem = str(int(float(os.environ["SLURMRAY_MEM_GB"]) * 1024))
    gpus = os.environ.get("SLURMRAY_RAY_GPUS") or os.environ.get("SLURMRAY_GPUS") or "0"
    return int(number), cpus, int(mem) if mem and mem.isdigit() else None, gpus


def memory_bytes(store_mb):
    """Ray's schedulable memory on this node: the grant less the object store (None: Ray's default)."""
    granted = grant()[2]
    if granted is None:
        return None
    return max(granted - int(store_mb or 0), 64) * 1024 * 1024


def ray_command(index, head_address, ports, temp_dir, ip):
    ray = os.path.join(os.path.dirname(sys.executable), "ray")
    if not os.path.exists(ray):
        ray = shutil.which("ray") or fail("the job's environment has no `ray` command: is ray installed in it?")
    cmd = [ray, "start", "--block", "--disable-usage-stats", "--temp-dir", temp_dir, "--node-ip-address", ip]
    _, cpus, _, gpus = grant()
    cmd += ["--num-cpus", cpus]
    if gpus != "0":
        cmd += ["--num-gpus", gpus]
    store_mb = os.environ.get("SLURMRAY_RAY_OBJECT_STORE_MB")
    if store_mb:
        cmd += ["--object-store-memory", str(int(store_mb) * 1024 * 1024)]
    memory = memory_bytes(store_mb)
    if memory:
        cmd += ["--memory", str(memory)]
    head_only = ("port", "ray-client-server-port", "dashboard-port")
    # Ray refuses a client server port without ray[client] (grpc), and then starts no client server at all.
    unused = () if importlib.util.find_spec("grpc") else ("ray-client-server-port",)
    for name, port in ports.items():
        if (index == 0 or name not in head_only) and name not in unused:
            cmd += ["--" + name, str(port)]
    if index == 0:
        cmd += ["--head", "--include-dashboard", "true" if dashboard_on() else "false"]
        if dashboard_on():
            # Reached from the login node through `slurmray dashboard` (Ray's token guards it), not only here.
            cmd += ["--dashboard-host", ip]
    else:
        cmd += ["--address", head_address]
    return cmd


def dashboard_on():
    return os.environ.get("SLURMRAY_RAY_DASHBOARD") == "1"


def head_info(ip, ports):
    """head.json: the GCS address, and the dashboard's host:port when it was asked for."""
    info = {"address": "%s:%d" % (ip, ports["port"])}
    if dashboard_on():
        info["dashboard"] = "%s:%d" % (ip, ports["dashboard-port"])
    return info


def wait_port_open(host, port, proc):
    while proc.poll() is None:
        try:
            socket.create_connection((host, port), timeout=2).close()
            return True
        except OSError:
            time.sleep(POLL_S)
    return False


def run_node(job_dir, index, head_address):
    job_id = grant()[0]
    node_name = os.environ.get("SLURMD_NODENAME", socket.gethostname())
    os.makedirs(ray_dir(job_dir), mode=0o700, exist_ok=True)
    log_path = os.path.join(ray_dir(job_dir), "node-%d.log" % index)
    temp_dir = tempfile.mkdtemp(prefix="sr%d-%d-" % (job_id, index), dir="/tmp")
    ports = choose_ports(job_id, index)
    ip = node_ip()
    stopping = []

    not_dropped = drop_override()  # Ray's workers run the job's code too
    if not_dropped:
        say("warning: Ray node %d runs as root and keeps root's power to write through file modes (%s)" % (index, not_dropped))
    # TMPDIR too: what Ray's own processes make in the temp dir (multiprocessing's pymp-* dirs, left by the
    # dashboard's when they are stopped) goes with the node's temp dir, removed below.
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            ray_command(index, head_address, ports, temp_dir, ip),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env=dict(os.environ, TMPDIR=temp_dir),
        )

    def stop(*_):
        stopping.append(True)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop()), daemon=True).start()
    try:
        if index == 0:
            if wait_port_open(ip, ports["port"], proc):
                write_json_atomic(os.path.join(ray_dir(job_dir), "head.json"), head_info(ip, ports))
        while True:
            try:
                code = proc.wait(timeout=STOP_GRACE_S if stopping else None)
                break
            except subprocess.TimeoutExpired:
                say("Ray node %d on %s did not stop within %d s: killing it" % (index, node_name, STOP_GRACE_S))
                os.killpg(proc.pid, signal.SIGKILL)
        if not stopping:
            write_json_atomic(os.path.join(ray_dir(job_dir), "node-%d.exit" % index), {"code": code, "node": node_name})
            say("Ray node %d on %s ended (exit code %s); its output is in %s:\n%s" % (index, node_name, code, log_path, tail(log_path)))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever a failed start left behind (gcs_server, raylet, ...)
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(temp_dir, ignore_errors=True)
    sys.exit(0 if stopping else 1)


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def start_timeout():
    return float(os.environ.get("SLURMRAY_RAY_START_TIMEOUT", "180"))


def check_nodes_running(job_dir):
    for name in sorted(os.listdir(ray_dir(job_dir))):
        if name.endswith(".exit"):
            with open(os.path.join(ray_dir(job_dir), name)) as f:
                ended = json.load(f)
            fail("Ray could not start: node %s (%s) ended; see %s" % (name[5:-5], ended.get("node"), ray_dir(job_dir)), job_dir)


def wait_head(job_dir):
    path = os.path.join(ray_dir(job_dir), "head.json")
    deadline = time.monotonic() + start_timeout()
    while not os.path.exists(path):
        if os.path.isdir(ray_dir(job_dir)):
            check_nodes_running(job_dir)
        if time.monotonic() > deadline:
            fail("the Ray head did not start within %g s; see %s/node-0.log" % (start_timeout(), ray_dir(job_dir)), job_dir)
        time.sleep(POLL_S)
    with open(path) as f:
        print(json.load(f)["address"])


def wait_ready(job_dir, nodes):
    with open(os.path.join(ray_dir(job_dir), "head.json")) as f:
        address = json.load(f)["address"]
    started = time.monotonic()
    try:
        import ray  # only here: `node` and `head` must not pay for importing Ray

        ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    except Exception as error:  # noqa: BLE001 - any failure to reach the head is a start failure
        fail("could not connect to the Ray head at %s: %s" % (address, error), job_dir)
    try:
        while True:
            alive = sum(1 for n in ray.nodes() if n.get("Alive"))
            if alive >= nodes:
                break
            check_nodes_running(job_dir)
            if time.monotonic() - started > start_timeout():
                fail("only %d of %d Ray nodes joined within %g s; see %s" % (alive, nodes, start_timeout(), ray_dir(job_dir)), job_dir)
            time.sleep(POLL_S)
    finally:
        ray.shutdown()
    spec_path = os.path.join(job_dir, "job.json")
    with open(spec_path) as f:
        spec = json.load(f)
    spec["ray"] = {"address": address}
    write_json_atomic(spec_path, spec)
    say("Ray cluster ready: %d node%s at %s (%.1f s)" % (nodes, "" if nodes == 1 else "s", address, time.monotonic() - started))


def main(argv):
    if len(argv) == 3 and argv[1] == "token":
        make_token(argv[2])
    elif len(argv) >= 3 and argv[1] == "node":
        run_node(argv[2], int(argv[3]), argv[4] if len(argv) > 4 else None)
    elif len(argv) == 3 and argv[1] == "head":
        wait_head(argv[2])
    elif len(argv) == 4 and argv[1] == "ready":
        wait_ready(argv[2], int(argv[3]))
    else:
        fail("usage: ray_cluster.py token JOB_DIR | node JOB_DIR INDEX [HEAD_ADDRESS] | head JOB_DIR | ready JOB_DIR NODES")


if __name__ == "__main__":
    main(sys.argv)
