"""Ctrl-C and SIGTERM, handled so that the sandbox is always torn down.

Python runs signal handlers in the main thread only, and only when it executes bytecode; the
kernel, though, may deliver a process's signal to any of its threads. A main thread blocked
for good on a lock (waiting for worker threads) would then never see it: the run would ignore
Ctrl-C. So the main thread waits in short slices (`wait_all`), and handlers run within them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager
from typing import Any

_SLICE = 0.1  # seconds: how late a signal may be noticed


def wait_all(futures: Iterable[Future[Any]]) -> None:
    """Wait until every future is done, staying responsive to signals."""
    pending = set(futures)
    while pending:
        _done, pending = wait(pending, timeout=_SLICE)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (CI cancelling a job, `kill`) is handled like Ctrl-C: tear down, exit 130."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_ignored() -> Iterator[None]:
    """A second Ctrl-C must not abandon a teardown half done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
