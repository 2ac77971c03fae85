"""Run one command inside a running container, with a time limit that really ends it.

`exec` has no timeout of its own, and giving up on the client side leaves the process running
(docker-py 2651). At the deadline the exec's whole process tree is frozen (SIGSTOP, so a fork
bomb cannot outrun the count and orphans cannot slip away to PID 1) and then killed. That needs
the engine on this machine, the usual case; with a remote engine the container is killed
instead, and the caller reports it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poc_runner.sandbox.capture import Capture

if TYPE_CHECKING:
    from docker.models.containers import Container

_DRAIN_SECONDS = 5.0  # after the kill, how long the output stream may take to end
_FREEZE_ROUNDS = 50


@dataclass
class Outcome:
    exit_code: int | None
    timed_out: bool
    duration_s: float
    stdout: Capture
    stderr: Capture


def command_argv(command: str | list[str]) -> list[str]:
    """A step's `run`: text goes through `sh -c`, a list is the argv itself (as in Compose)."""
    return ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)


def execute(
    container: Container,
    argv: list[str],
    *,
    timeout: float,
    environment: Mapping[str, str] | None = None,
    workdir: str | None = None,
    stdout: Capture | None = None,
    stderr: Capture | None = None,
) -> Outcome:
    """Run `argv`; output goes to the given captures (in-memory, bounded, when none given)."""
    api = container.client.api
    exec_id = api.exec_create(
        container.id, argv, environment=dict(environment or {}), workdir=workdir
    )["Id"]
    out, err = stdout or Capture(), stderr or Capture()
    finished = threading.Event()
    failure: list[BaseException] = []

    def pump() -> None:
        try:
            for chunk_out, chunk_err in api.exec_start(exec_id, stream=True, demux=True):
                if chunk_out:
                    out.write(chunk_out)
                if chunk_err:
                    err.write(chunk_err)
        except BaseException as exc:  # reported by the caller's thread
            failure.append(exc)
        finally:
            finished.set()

    started = time.monotonic()
    reader = threading.Thread(target=pump, name=f"exec-{exec_id[:12]}", daemon=True)
    reader.start()
    timed_out = not finished.wait(timeout)
    if timed_out:
        _kill_tree(container, api.exec_inspect(exec_id).get("Pid") or 0)
        finished.wait(_DRAIN_SECONDS)
    duration = time.monotonic() - started
    out.close()
    err.close()
    if failure and not timed_out:
        raise failure[0]
    exit_code = api.exec_inspect(exec_id).get("ExitCode")
    return Outcome(None if timed_out else exit_code, timed_out, duration, out, err)


def _kill_tree(container: Container, pid: int) -> None:
    if pid <= 0:
        return
    if not Path(f"/proc/{pid}").exists():
        container.kill()  # a remote engine: its processes are not ours to signal
        return
    tree = _freeze(pid)
    for member in tree:
        _signal(member, signal.SIGKILL)


def _freeze(root: int) -> set[int]:
    """Stop every process under `root`, repeating until no new one appears."""
    frozen: set[int] = set()
    for _ in range(_FREEZE_ROUNDS):
        tree = _descendants(root) | {root}
        fresh = tree - frozen
        if not fresh:
            break
        for member in fresh:
            _signal(member, signal.SIGSTOP)
        frozen |= fresh
    return frozen


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:  # noqa: PTH123
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
