"""Who owns a run's objects: a process named so that any later command can tell whether it
still lives, and the user a kept sandbox belongs to (backends/docker/sweep.py uses them).

A process id alone is reused, and means nothing on another machine or in another container;
with the kernel's boot id, the PID namespace and the process's start time it names one process
for good, and whoever can check that name (same boot, same PID namespace) can prove it dead.
"""

from __future__ import annotations

import enum
import functools
import getpass
import os
import socket
from dataclasses import dataclass
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class Owner:
    """A process, named so that it cannot be confused with another one: a process id is reused,
    a boot id and a start time are not."""

    boot: str
    pid_namespace: int
    pid: int
    started: int  # clock ticks after boot (/proc/PID/stat, field 22)

    def label(self) -> str:
        return f"{self.boot}/{self.pid_namespace}/{self.pid}/{self.started}"

    @classmethod
    def parse(cls, text: str | None) -> Owner | None:
        parts = (text or "").split("/")
        if len(parts) != 4 or not all(part.isdigit() for part in parts[1:]):
            return None
        return cls(parts[0], int(parts[1]), int(parts[2]), int(parts[3]))


class Liveness(enum.Enum):
    ALIVE = "alive"
    GONE = "gone"  # provably: this machine, boot and PID namespace, and no such process
    UNKNOWN = "unknown"  # another machine, container or boot, or an unlabelled object


@functools.cache
def this_process() -> Owner | None:
    """This process as an owner; None where the kernel does not say (not Linux)."""
    return _identify(os.getpid())


def _identify(pid: int) -> Owner | None:
    try:
        return Owner(_boot(), _pid_namespace(), pid, _start_time(pid))
    except (OSError, ValueError, IndexError):
        return None


def _boot() -> str:
    return _BOOT_ID.read_text().strip()


def _pid_namespace() -> int:
    return Path("/proc/self/ns/pid").stat().st_ino


def _stat(pid: int) -> list[bytes]:
    """The fields of /proc/PID/stat after the process's name (state is the first)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:  # noqa: PTH123 - read in one call
        return stat.read().rsplit(b")", 1)[1].split()


def _start_time(pid: int) -> int:
    return int(_stat(pid)[19])  # field 22 of the file; the name ended at field 2


def liveness(owner_label: str | None) -> Liveness:
    """Whether the process an object's owner label names still lives, as far as this process
    can prove either way."""
    owner, me = Owner.parse(owner_label), this_process()
    if owner is None or me is None:
        return Liveness.UNKNOWN
    if (owner.boot, owner.pid_namespace) != (me.boot, me.pid_namespace):
        return Liveness.UNKNOWN
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return Liveness.GONE
    except PermissionError:
        pass  # another user's process of that id: it exists
    try:
        fields = _stat(owner.pid)
        ended = fields[0] in (b"Z", b"X") or int(fields[19]) != owner.started  # or id reused
    except (OSError, ValueError, IndexError):
        return Liveness.ALIVE  # it exists, and its details are hidden from us (hidepid)
    return Liveness.GONE if ended else Liveness.ALIVE


def this_user() -> str:
    """Who owns a kept sandbox: `user@host`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"
