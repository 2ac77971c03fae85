"""Ending every process a command started in the sandbox, also those that left its tree.

A timed-out step must end for good: `(sleep 300 &)`, `setsid -f` and a fork bomb's children
leave the exec's process tree (their parent becomes the container's init) and would live on
into later steps. So every command poc-runner runs in a container carries a marker in its
environment (`POC_RUNNER_EXEC=<token>`), which every child inherits. At the deadline a stopper,
a helper container that joins the service's PID namespace through the engine, freezes every
process that holds the marker or descends from one (SIGSTOP, repeated until no new one
appears, so a fork bomb cannot outrun it), then kills them all. Nothing reads this machine's
process table, so a remote engine is served the same way as a local one.

The stopper sees the service's processes and nothing else, has no network, and holds only what
the job needs: KILL, and SYS_PTRACE with DAC_READ_SEARCH to read other users' environments.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import TYPE_CHECKING

from poc_runner.backends.docker.helpers import START_PIDS, confined, create_helper
from poc_runner.sandbox import labels

if TYPE_CHECKING:
    from docker.models.containers import Container

MARKER = "POC_RUNNER_EXEC"
_WAIT = 30.0  # seconds the stopper may take; it needs well under one

# Run by python3 in the stopper: argv[1] is `MARKER=token`. Prints how many it stopped.
_STOP = """
import os, signal, sys
mark, me = sys.argv[1].encode(), os.getpid()

def doomed():
    parents, marked = {}, set()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (1, me):
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                parents[int(name)] = int(stat.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{name}/environ", "rb") as environ:
                if mark in environ.read().split(b"\\0"):
                    marked.add(int(name))
        except (OSError, ValueError, IndexError):
            continue
    grew = True
    while grew:
        grown = {pid for pid, parent in parents.items() if parent in marked} - marked
        marked |= grown
        grew = bool(grown)
    return marked

def send(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass

frozen = set()
for _ in range(100):
    fresh = doomed() - frozen
    if not fresh:
        break
    send(fresh, signal.SIGSTOP)
    frozen |= fresh
send(frozen, signal.SIGKILL)
print(len(frozen))
"""


def new_marker() -> tuple[str, str]:
    """A fresh marker for one command: (environment variable, value)."""
    return MARKER, secrets.token_hex(8)


def stop_marked(container: Container, token: str) -> None:
    """Freeze and kill every process in `container` that carries `token` or descends from one
    that does. A container that is no longer running has nothing left to stop."""
    import docker

    own = {**container.labels, labels.SERVICE: "(stopper)"}
    stopper = create_helper(
        container.client,
        "stopping a command that ran out of time",
        ["python3", "-c", _STOP, f"{MARKER}={token}"],
        name=f"{container.name}_stop-{token[:8]}",
        labels=own,
        pid_mode=f"container:{container.id}",
        network_disabled=True,
        **confined(
            capabilities=("KILL", "SYS_PTRACE", "DAC_READ_SEARCH"), memory="32m", pids=START_PIDS
        ),
    )
    try:
        stopper.start()
        stopper.wait(timeout=_WAIT)
    except docker.errors.APIError:
        container.reload()  # the service stopped meanwhile: its processes are gone with it
        if container.status == "running":
            raise
    finally:
        with contextlib.suppress(docker.errors.DockerException):
            stopper.remove(force=True)
