"""Reports a Python environment as one JSON line: the interpreter's version and PEP 508 marker environment,
its installed distributions (importlib.metadata, so it works in pip-less venvs), the directories searched,
and the slurmray stamp of the env named by the first argument (if any).

Run locally by the snapshot (``python envprobe.py``) and remotely by the env probe (``python -I - ENV_DIR``).
Standard library only, Python 3.8+.
"""

import json
import os
import platform
import site
import sys
from importlib import metadata


def _version(info):
    text = "{0.major}.{0.minor}.{0.micro}".format(info)
    if info.releaselevel != "final":
        text += info.releaselevel[0] + str(info.serial)
    return text


def markers():
    return {
        "os_name": os.name,
        "sys_platform": sys.platform,
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "python_full_version": platform.python_version(),
        "implementation_name": sys.implementation.name,
        "implementation_version": _version(sys.implementation.version),
    }


def distributions():
    seen = set()
    found = []
    # importlib.metadata yields in sys.path order: the first of a name is the one that imports.
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        key = name.lower().replace("_", "-").replace(".", "-")
        if key in seen:
            continue
        seen.add(key)
        direct = dist.read_text("direct_url.json")
        try:
            direct = json.loads(direct) if direct else None
        except ValueError:
            direct = None
        installer = (dist.read_text("INSTALLER") or "").strip()
        found.append({"name": name, "version": dist.version, "requires": dist.requires or [], "direct_url": direct, "installer": installer})
    return found


def stamp(env_dir):
    try:
        with open(os.path.join(env_dir, ".slurmray-env.json")) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def main():
    state = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "markers": markers(),
        "distributions": distributions(),
        # Where distributions are found; their change times key the local snapshot cache.
        "path": [p for p in sys.path[1:] if os.path.isdir(p)],
        # Where installs with --user go: on sys.path once it exists, so its absence counts too.
        "user_site": site.getusersitepackages() if site.ENABLE_USER_SITE else None,
        # A venv, or a conda env: an environment the user chose, not a system or pyenv Python.
        "virtualenv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "conda": os.path.isdir(os.path.join(sys.prefix, "conda-meta")),
    }
    if len(sys.argv) > 1:
        state["stamp"] = stamp(sys.argv[1])
    sys.stdout.write(json.dumps(state) + "\n")


main()
