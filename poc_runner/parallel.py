"""Many runs at once, and what Ctrl-C and SIGTERM do to them.

Each run is a job in a worker thread, so the main thread stays free to notice a signal (it waits
in short slices: interrupts.wait_all). On Ctrl-C or SIGTERM every sandbox live at that moment is
torn down at once, from the main thread, while the workers finish their results (verdict
`error`, "interrupted"); then Interrupted is raised, and the command exits 130. A second signal
during that teardown is ignored: a teardown half done would leave objects behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from poc_runner.errors import Interrupted
from poc_runner.interrupts import interrupts_noted, signals_ignored, sigterm_as_interrupt, wait_all

if TYPE_CHECKING:
    from poc_runner.backend import Sandbox

T = TypeVar("T")


class LiveSandboxes:
    """The sandboxes of runs under way, to tear down at once on an interruption."""

    def __init__(self) -> None:
        self.interrupted = threading.Event()
        self._live: set[int] = set()
        self._sandboxes: dict[int, Sandbox] = {}
        self._lock = threading.Lock()

    @contextmanager
    def registered(self, sandbox: Sandbox) -> Iterator[None]:
        with self._lock:
            self._sandboxes[id(sandbox)] = sandbox
        try:
            yield
        finally:
            with self._lock:
                self._sandboxes.pop(id(sandbox), None)

    def interrupt(self) -> None:
        """Every run is interrupted; every sandbox live now is removed."""
        self.interrupted.set()
        with self._lock:
            live = list(self._sandboxes.values())
        for sandbox in live:
            sandbox.down()


def run_each(jobs: Sequence[Callable[[], T]], parallel: int, live: LiveSandboxes) -> list[T]:
    """Every job's result, in order, `parallel` at a time; on Ctrl-C or SIGTERM, `live` is
    interrupted, the jobs finish, and Interrupted is raised."""
    pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="run")
    futures: list[Future[T]] = []
    try:
        # From before the first job starts: a signal while the jobs are handed out (a job may
        # get that far within the GIL's first slice) is noted and acted on once they are.
        with sigterm_as_interrupt(), interrupts_noted():
            futures += [pool.submit(job) for job in jobs]
            wait_all(futures)
    except KeyboardInterrupt:
        with signals_ignored():
            live.interrupt()
            pool.shutdown(wait=True, cancel_futures=True)
        raise Interrupted("interrupted: every sandbox was removed") from None
    pool.shutdown()
    return [future.result() for future in futures]
