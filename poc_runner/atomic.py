"""Writing a file whole or not at all: to a temporary name of its own beside it, then renamed
over it, so a reader (a browser, CI, `poc report`, the next run reading the data index) never
opens half a file, two writers at once never write into one temporary file, and a write that
fails leaves nothing behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def partial(target: Path) -> Path:
    """Where a program this process runs writes `target` before it is renamed into place (the
    same folder, so the rename is atomic): report.pdf, printed by Chromium."""
    return target.with_name(f".{target.name}.partial")


def write_atomic(target: Path, content: str | bytes) -> Path:
    """`content` (text as UTF-8) into `target`, whole or not at all."""
    data = content.encode() if isinstance(content, str) else content
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    being_written = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        being_written.chmod(0o666 & ~_umask())  # as a plain open() would have made it
        being_written.replace(target)
    except BaseException:
        being_written.unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    """The process's umask, read without setting it (os.umask would, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:  # noqa: PTH123
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022
