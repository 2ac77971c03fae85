"""Starting services in `depends_on` order, with Compose's meaning (spec, "services").

Each service starts as soon as what it depends on is started (`service_started`), healthy
(`service_healthy`) or, for a job such as a database migration, exited with code 0
(`service_completed_successfully`); services that do not wait on each other start at the same
time. The first failure stops the rest: services not started yet are never started.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from poc_runner.interrupts import wait_all


class Stack(Protocol):
    """Services by name, each with its `depends_on` and `healthcheck`: a validated Scenario,
    or a SandboxPlan (plan.py)."""

    @property
    def services(self) -> Mapping[str, Any]: ...


class _Board:
    """Which services are started and which are healthy, and whether start-up was abandoned.
    Threads wait on it without polling, so a service starts the moment what it needs is ready."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.started: set[str] = set()
        self.healthy: set[str] = set()
        self.completed: set[str] = set()
        self.abandoned = False

    def mark(self, milestone: set[str], name: str) -> None:
        with self._changed:
            milestone.add(name)
            self._changed.notify_all()

    def abandon(self) -> None:
        with self._changed:
            self.abandoned = True
            self._changed.notify_all()

    def ready_for(self, needs: dict[str, str]) -> bool:
        """Wait until every dependency meets its condition; False if start-up was abandoned."""

        milestones = {
            "service_healthy": self.healthy,
            "service_completed_successfully": self.completed,
        }

        def met() -> bool:
            return all(
                other in milestones.get(condition, self.started)
                for other, condition in needs.items()
            )

        with self._changed:
            self._changed.wait_for(lambda: self.abandoned or met())
            return not self.abandoned


def conditions(depends_on: object) -> dict[str, str]:
    """Each dependency of a service and its condition, from its `depends_on` as the model holds
    it or as raw YAML has it (the head start reads the file before it is validated); a shape
    that is neither yields none."""
    if isinstance(depends_on, list):
        return dict.fromkeys(map(str, depends_on), "service_started")
    if not isinstance(depends_on, Mapping):
        return {}
    return {str(other): _condition(spec) for other, spec in depends_on.items()}


def _condition(spec: object) -> str:
    if isinstance(spec, str):  # a plan's: the condition itself
        return spec
    condition = (
        spec.get("condition") if isinstance(spec, dict) else getattr(spec, "condition", None)
    )
    return condition if isinstance(condition, str) else "service_started"


def waits_on_health(depends_on: object) -> bool:
    """Whether a service waits for another to become healthy (not merely started)."""
    return "service_healthy" in conditions(depends_on).values()


def dependencies(scenario: Stack, name: str) -> dict[str, str]:
    """A service's dependencies in the stack and the condition of each (one with
    `required: false` may be absent: validation has seen to the others)."""
    found = conditions(scenario.services[name].depends_on)
    return {other: condition for other, condition in found.items() if other in scenario.services}


def jobs(scenario: Stack) -> set[str]:
    """Services others wait to complete: their exit, with code 0, is their success."""
    return {
        other
        for name in scenario.services
        for other, condition in dependencies(scenario, name).items()
        if condition == "service_completed_successfully"
    }


def start_in_order(
    scenario: Stack,
    start: Callable[[str], None],
    wait_healthy: Callable[[str], None],
    prepare: Callable[[str], None] = lambda _name: None,
    wait_completed: Callable[[str], None] = lambda _name: None,
) -> None:
    """For every service at once: `prepare` it (image, container), then, once its dependencies
    are ready, `start` it and (when it has a healthcheck) `wait_healthy`; a job others wait to
    complete is then waited for (`wait_completed` raises unless it exits with code 0).
    Preparing does not wait for dependencies, so a service's image builds while the database
    it needs starts. Raises the first failure."""
    board = _Board()
    failures: list[BaseException] = []
    waited_for = jobs(scenario)

    def bring_up(name: str) -> None:
        try:
            prepare(name)
            if not board.ready_for(dependencies(scenario, name)):
                return
            start(name)
            board.mark(board.started, name)
            check = scenario.services[name].healthcheck
            if check is not None and check.enabled:
                wait_healthy(name)
            board.mark(board.healthy, name)
            if name in waited_for:
                wait_completed(name)
                board.mark(board.completed, name)
        except BaseException as exc:
            failures.append(exc)
            board.abandon()

    pool = ThreadPoolExecutor(max_workers=max(len(scenario.services), 1), thread_name_prefix="up")
    try:
        wait_all([pool.submit(bring_up, name) for name in scenario.services])
    finally:  # on Ctrl-C too: waiting threads give up, and teardown ends the execs in flight
        board.abandon()
        pool.shutdown(wait=False, cancel_futures=True)
    if failures:
        raise failures[0]
