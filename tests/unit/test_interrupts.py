"""Ctrl-C reaches the run even when the kernel hands the signal to a worker thread."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from poc_runner.interrupts import interrupts_noted, signals_ignored, sigterm_as_interrupt, wait_all


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


def test_an_interrupt_while_waiting_is_raised_between_slices_never_inside_the_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """concurrent.futures.wait holds the futures' locks while it registers; a KeyboardInterrupt
    raised in there left one held, and the worker finishing that future hung on it."""
    import poc_runner.interrupts as interrupts

    real_wait = interrupts.wait
    completed: list[bool] = []

    def wait_hit_by_ctrl_c(*args: Any, **kwargs: Any) -> Any:
        signal.raise_signal(signal.SIGINT)  # the handler runs here, in the middle of the wait
        outcome = real_wait(*args, **kwargs)
        completed.append(True)
        return outcome

    monkeypatch.setattr(interrupts, "wait", wait_hit_by_ctrl_c)
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(time.sleep, 0.3)
        with pytest.raises(KeyboardInterrupt):
            wait_all([future])
    assert completed == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupts_noted_are_raised_when_the_block_ends_not_inside_it() -> None:
    reached_the_end = False
    with pytest.raises(KeyboardInterrupt), interrupts_noted():
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGINT)
        reached_the_end = True  # the import or class definition in here is not cut short
    assert reached_the_end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with interrupts_noted():  # nothing left noted from before
        pass


def test_ctrl_c_while_the_runs_are_handed_out_still_tears_down_and_says_interrupted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A job may reach its sandbox within the GIL's first slice, before the main thread waits:
    Ctrl-C then (here: right after the first job is handed out, in the main thread) is still
    the run's interruption, not a KeyboardInterrupt escaping the teardown."""
    from poc_runner import parallel
    from poc_runner.errors import Interrupted

    class SignalledOnSubmit(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submitted = super().submit(fn, *args, **kwargs)
            signal.raise_signal(signal.SIGINT)
            return submitted

    monkeypatch.setattr(parallel, "ThreadPoolExecutor", SignalledOnSubmit)
    live = parallel.LiveSandboxes()
    try:
        with pytest.raises(Interrupted, match="every sandbox was removed"):
            parallel.run_each([lambda: 1, lambda: 2], 1, live)
    except KeyboardInterrupt:  # not pytest's own: it would end the whole session
        pytest.fail("Ctrl-C escaped run_each as a KeyboardInterrupt")
    assert live.interrupted.is_set()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
