"""Ctrl-C reaches the run even when the kernel hands the signal to a worker thread."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from poc_runner.interrupts import signals_ignored, sigterm_as_interrupt, wait_all


def test_a_signal_delivered_to_a_worker_thread_interrupts_the_waiting_main_thread() -> None:
    release = threading.Event()
    worker_id: list[int] = []

    def work() -> None:
        worker_id.append(threading.get_ident())
        release.wait(10)

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(work)
        while not worker_id:
            time.sleep(0.01)
        timer = threading.Timer(0.2, signal.pthread_kill, (worker_id[0], signal.SIGINT))
        timer.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            wait_all([future])
        assert time.monotonic() - started < 2
        release.set()


def test_sigterm_becomes_an_interrupt_and_is_restored_after() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before


def test_signals_are_ignored_during_teardown() -> None:
    with signals_ignored():
        signal.raise_signal(signal.SIGINT)  # would raise KeyboardInterrupt otherwise
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
