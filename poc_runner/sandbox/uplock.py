"""One sandbox left up per scenario, even when two commands bring one up at once.

`poc up` (and `poc run --keep`) refuse to start when the scenario is up already (reuse.py), but
two of them started together both find none up, and make two: `--reuse`, `poc shell` and
`poc down` then no longer know which one they mean. So bringing one up holds a lock for the
scenario on this engine (a file in the state folder, held with `flock`: the kernel lets go of
it when the process ends, however it ends), and says who holds it; the second is refused,
naming the first.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from poc_runner.errors import SandboxError
from poc_runner.settings import state_dir


@contextmanager
def bringing_up(scenario: str, command: str, path: str, engine: str) -> Iterator[None]:
    """Hold the scenario's lock on `engine` (its address) while `command` (`poc up`) brings its
    sandbox up; refused, naming the holder, while another process holds it."""
    folder = state_dir() / "up"
    folder.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(f"{engine}\0{scenario}".encode()).hexdigest()[:24]
    descriptor = os.open(folder / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 512, 0).decode(errors="replace").strip()
            raise SandboxError(
                f"{scenario} is being brought up by another {holder or 'command'}: wait for"
                f" it, then use that sandbox (`poc run --reuse {path}`, `poc shell {path}"
                f" SERVICE`), or `poc down {path}` once it is up"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{command} (pid {os.getpid()}, since {_now()})".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # the lock goes with it


def _now() -> str:
    return time.strftime("%H:%M:%S")
