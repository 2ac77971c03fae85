"""Ctrl-C and SIGTERM, handled so that the sandbox is always torn down.

Python runs signal handlers in the main thread only, and only when it executes bytecode; the
kernel, though, may deliver a process's signal to any of its threads. A main thread blocked
for good on a lock (waiting for worker threads) would then never see it: the run would ignore
Ctrl-C. So the main thread waits in short slices (`wait_all`), and handlers run within them.

A KeyboardInterrupt raised at an arbitrary point can break library code half way: inside
`concurrent.futures.wait`, which holds each future's lock while it registers, it left a lock
held and the worker finishing that future waited on it for good (the run hung instead of
exiting 130); inside a class being defined during an import, Python turned it into a
RuntimeError (exit 3). So where that can happen, Ctrl-C and SIGTERM only take note
(`interrupts_noted`), and KeyboardInterrupt is raised at safe points: between two slices of
`wait_all`, and when the block ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager
from typing import Any

_SLICE = 0.1  # seconds: how late a signal may be noticed


_NOTED: list[int] = []  # signals noted under `interrupts_noted` and not acted on yet


def wait_all(futures: Iterable[Future[Any]]) -> None:
    """Wait until every future is done, staying responsive to signals."""
    pending = set(futures)
    if threading.current_thread() is not threading.main_thread():
        wait(pending)
        return
    interrupting = [  # those that raise KeyboardInterrupt here (SIGTERM: sigterm_as_interrupt)
        sig
        for sig in (signal.SIGINT, signal.SIGTERM)
        if signal.getsignal(sig) in (signal.default_int_handler, _note)
    ]
    with interrupts_noted(*interrupting):
        while pending:
            raise_if_interrupted()
            _done, pending = wait(pending, timeout=_SLICE)


@contextmanager
def interrupts_noted(*signals: int) -> Iterator[None]:
    """Meanwhile (in the main thread), these signals (default: Ctrl-C and SIGTERM) only take
    note; a noted one is raised as KeyboardInterrupt by `raise_if_interrupted`, or when the
    block ends without an error of its own."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        sig: signal.signal(sig, _note) for sig in signals or (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    raise_if_interrupted()


def raise_if_interrupted() -> None:
    if _NOTED:
        _NOTED.clear()
        raise KeyboardInterrupt


def _note(sig: int, _frame: object) -> None:
    _NOTED.append(sig)


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
