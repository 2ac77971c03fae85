"""What a run is doing, as it happens: a live display in a terminal, timestamped lines in CI.

Both show the same events: services building, starting, healthy; steps running (with elapsed
time, ticking in a terminal) and how they ended. Output goes to stderr; stdout is for results.
When the reader goes away (`poc run 2>&1 | head`), the display falls silent: the run itself
goes on and ends as it would have.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from poc_runner.events import Event
from poc_runner.masking import SECRETS

_TICK = 0.2


@dataclass
class _Line:
    status: str
    since: float
    active: bool


class Progress:
    """Plain lines: `12:03:04 invoice-dedupe  step detect: running`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()
        self._silent = False

    def __call__(self, event: Event) -> None:
        """Show an event: the display is an `OnEvent` listener (events.py)."""
        self.update(event.scenario, event.subject, event.status, active=event.active)

    def update(self, scope: str, subject: str, status: str, *, active: bool = False) -> None:
        with self._lock:
            stamp = time.strftime("%H:%M:%S")
            self._write(SECRETS.mask(f"{stamp} {scope}  {subject}: {status}\n"))

    def _write(self, text: str) -> None:
        """Write, unless the reader has gone (a closed pipe, a full disk): then stay quiet."""
        if self._silent:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError:
            self._silent = True

    def close(self) -> None:
        """Nothing to tidy for plain lines."""


class LiveProgress(Progress):
    """One line per service and step, redrawn in place; active lines show a running clock."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._lines: dict[tuple[str, str], _Line] = {}
        self._drawn = 0
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._ticker.start()

    def update(self, scope: str, subject: str, status: str, *, active: bool = False) -> None:
        with self._lock:
            self._lines[(scope, subject)] = _Line(status, time.monotonic(), active)
            self._draw()

    def _tick(self) -> None:
        while not self._stop.wait(_TICK):
            with self._lock:
                if any(line.active for line in self._lines.values()):
                    self._draw()

    def _draw(self) -> None:
        now = time.monotonic()
        out = [f"\x1b[{self._drawn}F"] if self._drawn else []
        for (scope, subject), line in self._lines.items():
            clock = f" {now - line.since:5.1f}s" if line.active else ""
            mark = "…" if line.active else "•"
            out.append(SECRETS.mask(f"\x1b[2K {mark} {scope}  {subject}: {line.status}{clock}\n"))
        self._write("".join(out))
        self._drawn = len(self._lines)

    def close(self) -> None:
        self._stop.set()
        self._ticker.join()
        with self._lock:
            for line in self._lines.values():
                line.active = False
            self._draw()


def for_terminal(stream: TextIO | None = None) -> Progress:
    stream = stream or sys.stderr
    return LiveProgress(stream) if stream.isatty() else Progress(stream)
