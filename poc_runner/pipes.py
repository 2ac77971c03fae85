"""A reader that leaves early (`poc run | head`) ends nothing: what is left to print goes
nowhere, and the command ends with its own exit code (a run's verdict), never SIGPIPE's 141.

Python ignores SIGPIPE, so a write to a pipe nobody reads raises BrokenPipeError wherever it
happens: half way through a command's output, with its outcome still to come. Standard output
and error are wrapped so that the first such write points the stream at /dev/null (the
descriptor itself, so Python's own last flush goes there too) and carries on.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from typing import TextIO


class Unread(io.TextIOBase):
    """A text stream that goes quiet once its reader has gone."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)
        with contextlib.suppress(OSError):  # what was buffered for the reader: /dev/null
            self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def writable(self) -> bool:
        return True

    @property  # TextIOBase's are read-only at run time, attributes to typeshed
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._stream.errors


def readers_may_leave() -> None:
    """Wrap standard output and error (once) so that a reader leaving ends nothing."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, Unread):
            setattr(sys, name, Unread(stream))
