"""Starting services in `depends_on` order, with Compose's meaning (spec, "services").

Each service starts as soon as what it depends on is started (`service_started`) or healthy
(`service_healthy`); services that do not wait on each other start at the same time. The first
failure stops the rest: services not started yet are never started.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from poc_runner.interrupts import wait_all
from poc_runner.model import Scenario


@dataclass
class _Milestones:
    started: threading.Event = field(default_factory=threading.Event)
    healthy: threading.Event = field(default_factory=threading.Event)


def dependencies(scenario: Scenario, name: str) -> dict[str, str]:
    """A service's dependencies and the condition of each."""
    depends_on = scenario.services[name].depends_on
    if isinstance(depends_on, list):
        return dict.fromkeys(depends_on, "service_started")
    return {other: spec.condition for other, spec in depends_on.items()}


def start_in_order(
    scenario: Scenario,
    start: Callable[[str], None],
    wait_healthy: Callable[[str], None],
    prepare: Callable[[str], None] = lambda _name: None,
) -> None:
    """For every service at once: `prepare` it (image, container), then, once its dependencies
    are ready, `start` it and (when it has a healthcheck) `wait_healthy`. Preparing does not
    wait for dependencies, so a service's image builds while the database it needs starts.
    Raises the first failure."""
    milestones = {name: _Milestones() for name in scenario.services}
    stop = threading.Event()
    failures: list[BaseException] = []

    def bring_up(name: str) -> None:
        try:
            prepare(name)
            for other, condition in dependencies(scenario, name).items():
                ready = milestones[other]
                event = ready.healthy if condition == "service_healthy" else ready.started
                while not event.wait(0.05):
                    if stop.is_set():
                        return
            if stop.is_set():
                return
            start(name)
            milestones[name].started.set()
            check = scenario.services[name].healthcheck
            if check is not None and check.enabled:
                wait_healthy(name)
            milestones[name].healthy.set()
        except BaseException as exc:
            failures.append(exc)
            stop.set()

    pool = ThreadPoolExecutor(max_workers=max(len(milestones), 1), thread_name_prefix="up")
    try:
        wait_all([pool.submit(bring_up, name) for name in milestones])
    finally:  # on Ctrl-C too: waiting threads give up, and teardown ends the execs in flight
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
    if failures:
        raise failures[0]
