"""Output of a process in the sandbox, kept bounded whatever it prints.

The head is written to disk as it arrives; once it is full only a fixed-size tail is kept in
memory, and at the end a line says how much was cut between the two. Memory stays under
head + tail per stream however much the step writes. Secrets are masked on the way in
(see `masking`), so neither the file nor the text checks read ever holds one; which secret
forms were masked is kept (`seen`) for the checks that look for a secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from poc_runner.masking import SECRETS

CUT_NOTE = "bytes cut here"  # in the line that marks where output was cut; checks look for it
HEAD_BYTES = 1024 * 1024
TAIL_BYTES = 1024 * 1024


class Capture:
    """Keeps the head and tail of a stream, writing what it keeps to `path` when given."""

    def __init__(
        self, path: Path | None = None, head: int = HEAD_BYTES, tail: int = TAIL_BYTES
    ) -> None:
        self._file: IO[bytes] | None = path.open("wb") if path is not None else None
        self._head_limit, self._tail_limit = head, tail
        self._head = bytearray()
        self._tail = bytearray()
        self._masker = SECRETS.stream()
        self.total = 0

    def write(self, chunk: bytes) -> None:
        self._keep(self._masker.feed(chunk))

    def _keep(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._head_limit - len(self._head)
        if room > 0:
            kept = chunk[:room]
            self._head += kept
            if self._file is not None:
                self._file.write(kept)
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            if len(self._tail) > 2 * self._tail_limit:
                del self._tail[: len(self._tail) - self._tail_limit]

    @property
    def seen(self) -> set[str]:
        """The secret forms masked in the stream so far, as the product wrote them."""
        return self._masker.seen

    @property
    def cut(self) -> int:
        """Bytes dropped between head and tail."""
        return self.total - len(self._head) - min(len(self._tail), self._tail_limit)

    def close(self) -> None:
        self._keep(self._masker.flush())
        if self._file is None:
            return
        tail = self._tail[-self._tail_limit :] if self._tail else b""
        if self.cut:
            self._file.write(self._marker())
        self._file.write(tail)
        self._file.close()
        self._file = None

    def _marker(self) -> bytes:
        return (
            f"\n[poc-runner: {self.cut} {CUT_NOTE}; kept the first {len(self._head)} and"
            f" the last {min(len(self._tail), self._tail_limit)} of {self.total}]\n"
        ).encode()

    def text(self) -> str:
        """What was kept, as text (head, cut marker, tail), for checks and error messages."""
        tail = bytes(self._tail[-self._tail_limit :])
        kept = bytes(self._head) + (self._marker() if self.cut else b"") + tail
        return kept.decode("utf-8", errors="replace")
