"""`start_in_order`: Compose's `depends_on`, services that can start together do, a failure stops
the rest. The engine is replaced by `start` / `wait_healthy` callables (the interface the sandbox
passes in); concurrency is proven with barriers and events, never with sleeps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from poc_runner.model import Scenario
from poc_runner.sandbox import startup
from poc_runner.sandbox.startup import conditions, dependencies, start_in_order, waits_on_health

WAIT = 5.0  # only reached when the code under test is wrong
HEALTHCHECK = {"test": ["CMD", "true"], "interval": "1s"}


def scenario(**services: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(
        {
            "apiVersion": "poc-runner/v1",
            "name": "startup",
            "services": {
                name: {"image": "busybox:1.36", **fields} for name, fields in services.items()
            },
        }
    )


class Recorder:
    """Fake `start` / `wait_healthy`: records (what, service, when) and runs per-service hooks."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()
        self.on_start: dict[str, Callable[[], None]] = {}
        self.on_healthy: dict[str, Callable[[], None]] = {}

    def _log(self, what: str, name: str) -> None:
        with self._lock:
            self.events.append((what, name, time.monotonic()))

    def start(self, name: str) -> None:
        self._log("start", name)
        self.on_start.get(name, lambda: None)()
        self._log("started", name)

    def wait_healthy(self, name: str) -> None:
        self._log("waiting", name)
        self.on_healthy.get(name, lambda: None)()
        self._log("healthy", name)

    def when(self, what: str, name: str) -> float:
        return next(t for w, n, t in self.events if (w, n) == (what, name))

    def happened(self, what: str, name: str) -> bool:
        return any((w, n) == (what, name) for w, n, _ in self.events)

    def names(self, what: str) -> list[str]:
        return [n for w, n, _ in self.events if w == what]


def run(subject: Scenario, recorder: Recorder) -> None:
    """start_in_order, bounded in time: a deadlock fails the test instead of hanging it."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            start_in_order(subject, recorder.start, recorder.wait_healthy)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(WAIT * 2)
    assert not thread.is_alive(), "start_in_order did not return"
    if failure:
        raise failure[0]


def test_dependencies_in_both_spellings() -> None:
    subject = scenario(
        db={"healthcheck": HEALTHCHECK},
        cache={},
        app={"depends_on": ["db", "cache"]},
        web={"depends_on": {"db": {"condition": "service_healthy"}, "cache": {}}},
    )
    assert dependencies(subject, "app") == {"db": "service_started", "cache": "service_started"}
    assert dependencies(subject, "web") == {"db": "service_healthy", "cache": "service_started"}
    assert dependencies(subject, "db") == {}


def test_raw_yaml_reads_as_the_model_does() -> None:
    """The head start asks the same question of the raw file, before validation."""
    raw = {"db": {"condition": "service_healthy"}, "cache": {}, "queue": None}
    assert conditions(raw) == {
        "db": "service_healthy",
        "cache": "service_started",
        "queue": "service_started",
    }
    assert waits_on_health(raw)
    assert not waits_on_health(["db"])


@pytest.mark.parametrize("shape", [None, 5, "db", {"db": {"condition": 3}}])
def test_a_raw_shape_the_model_would_refuse_waits_on_nothing(shape: object) -> None:
    assert not waits_on_health(shape)


def test_every_service_started_once() -> None:
    recorder = Recorder()
    run(scenario(a={}, b={"depends_on": ["a"]}, c={"depends_on": ["b"]}), recorder)
    assert sorted(recorder.names("start")) == ["a", "b", "c"]
    assert recorder.names("waiting") == []  # no healthcheck, nothing to wait for


def test_service_started_waits_for_the_start_only() -> None:
    """app may start while db is still becoming healthy: db's health waits for app's start."""
    recorder = Recorder()
    app_started = threading.Event()
    recorder.on_start["app"] = app_started.set
    recorder.on_healthy["db"] = lambda: _must(app_started.wait(WAIT), "app waited for db health")
    run(scenario(db={"healthcheck": HEALTHCHECK}, app={"depends_on": ["db"]}), recorder)
    assert recorder.when("started", "db") <= recorder.when("start", "app")
    assert recorder.when("start", "app") <= recorder.when("healthy", "db")


def test_service_healthy_waits_for_the_healthcheck() -> None:
    recorder = Recorder()
    subject = scenario(
        db={"healthcheck": HEALTHCHECK},
        app={"depends_on": {"db": {"condition": "service_healthy"}}},
    )
    run(subject, recorder)
    assert [(w, n) for w, n, _ in recorder.events] == [
        ("start", "db"),
        ("started", "db"),
        ("waiting", "db"),
        ("healthy", "db"),
        ("start", "app"),
        ("started", "app"),
    ]
    assert recorder.when("healthy", "db") <= recorder.when("start", "app")


def test_a_chain_respects_every_link() -> None:
    recorder = Recorder()
    subject = scenario(
        web={"depends_on": {"app": {"condition": "service_healthy"}}},
        app={"depends_on": {"db": {"condition": "service_healthy"}}, "healthcheck": HEALTHCHECK},
        db={"healthcheck": HEALTHCHECK},
    )
    run(subject, recorder)
    assert recorder.when("healthy", "db") <= recorder.when("start", "app")
    assert recorder.when("healthy", "app") <= recorder.when("start", "web")


def test_a_disabled_healthcheck_is_not_waited_for() -> None:
    recorder = Recorder()
    run(
        scenario(
            a={"healthcheck": {"test": ["NONE"]}},
            b={"healthcheck": {**HEALTHCHECK, "disable": True}},
        ),
        recorder,
    )
    assert recorder.names("waiting") == []


def test_every_service_with_a_healthcheck_is_waited_for() -> None:
    recorder = Recorder()
    run(scenario(db={"healthcheck": HEALTHCHECK}, app={}), recorder)
    assert recorder.names("waiting") == ["db"]


def test_independent_services_start_at_the_same_time() -> None:
    """Each start waits on a barrier that only opens when all three are inside `start`."""
    recorder = Recorder()
    barrier = threading.Barrier(3, timeout=WAIT)
    for name in ("a", "b", "c"):
        recorder.on_start[name] = barrier.wait
    run(scenario(a={}, b={}, c={}), recorder)  # a serial start would break the barrier
    assert sorted(recorder.names("started")) == ["a", "b", "c"]


def test_siblings_start_together_once_their_dependency_is_healthy() -> None:
    recorder = Recorder()
    barrier = threading.Barrier(2, timeout=WAIT)
    recorder.on_start["api"] = barrier.wait
    recorder.on_start["worker"] = barrier.wait
    healthy_db = {"db": {"condition": "service_healthy"}}
    subject = scenario(
        db={"healthcheck": HEALTHCHECK},
        api={"depends_on": healthy_db},
        worker={"depends_on": healthy_db},
    )
    run(subject, recorder)
    assert recorder.when("healthy", "db") <= min(
        recorder.when("start", "api"), recorder.when("start", "worker")
    )


def test_health_waits_run_concurrently() -> None:
    recorder = Recorder()
    barrier = threading.Barrier(2, timeout=WAIT)
    recorder.on_healthy["db"] = barrier.wait
    recorder.on_healthy["queue"] = barrier.wait
    run(scenario(db={"healthcheck": HEALTHCHECK}, queue={"healthcheck": HEALTHCHECK}), recorder)
    assert sorted(recorder.names("healthy")) == ["db", "queue"]


def test_a_failed_start_is_raised_and_dependents_never_start() -> None:
    recorder = Recorder()
    recorder.on_start["db"] = _fail("db: image has no command")
    subject = scenario(
        db={},
        app={"depends_on": ["db"]},
        web={"depends_on": ["app"]},
    )
    with pytest.raises(RuntimeError, match="db: image has no command"):
        run(subject, recorder)
    assert recorder.names("start") == ["db"]


def test_a_failed_healthcheck_stops_what_waits_for_it() -> None:
    recorder = Recorder()
    recorder.on_healthy["db"] = _fail("db never became healthy")
    subject = scenario(
        db={"healthcheck": HEALTHCHECK},
        app={"depends_on": {"db": {"condition": "service_healthy"}}},
    )
    with pytest.raises(RuntimeError, match="never became healthy"):
        run(subject, recorder)
    assert not recorder.happened("start", "app")


def test_a_failure_stops_services_not_started_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """`late` waits on `slow` only. `slow` becomes healthy just after `bad` failed, so what
    `late` waited for is ready, yet it must not start: the run is already failing.

    The moment of failure is observed through the board start_in_order abandons."""
    stopping = threading.Event()
    abandon = startup._Board.abandon

    def abandon_and_signal(board: startup._Board) -> None:
        abandon(board)
        stopping.set()

    monkeypatch.setattr(startup._Board, "abandon", abandon_and_signal)
    slow_is_up = threading.Event()

    def fail_once_slow_is_up() -> None:
        _must(slow_is_up.wait(WAIT), "slow never started")
        raise RuntimeError("bad failed")

    def healthy_once_stopping() -> None:
        slow_is_up.set()
        _must(stopping.wait(WAIT), "the failure never stopped the start")

    recorder = Recorder()
    recorder.on_start["bad"] = fail_once_slow_is_up
    recorder.on_healthy["slow"] = healthy_once_stopping
    subject = scenario(
        bad={},
        slow={"healthcheck": HEALTHCHECK},
        late={"depends_on": {"slow": {"condition": "service_healthy"}}},
    )
    with pytest.raises(RuntimeError, match="bad failed"):
        run(subject, recorder)
    assert recorder.happened("healthy", "slow")
    assert not recorder.happened("start", "late")


def test_an_empty_scenario_starts_nothing() -> None:
    recorder = Recorder()
    run(scenario(), recorder)
    assert recorder.events == []


def test_keyboard_interrupt_in_a_start_is_raised() -> None:
    recorder = Recorder()

    def interrupted() -> None:
        raise KeyboardInterrupt

    recorder.on_start["a"] = interrupted
    with pytest.raises(KeyboardInterrupt):
        run(scenario(a={}, b={"depends_on": ["a"]}), recorder)
    assert not recorder.happened("start", "b")


def _must(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _fail(message: str) -> Callable[[], None]:
    def fail() -> None:
        raise RuntimeError(message)

    return fail


def test_service_completed_successfully_waits_for_the_job_to_exit() -> None:
    """The API starts only once the migration job is done; a job no one waits for is never
    waited for (it is an ordinary service)."""
    recorder = Recorder()
    completed: list[str] = []

    def wait_completed(name: str) -> None:
        recorder._log("completed", name)
        completed.append(name)

    subject = scenario(
        migrate={},
        api={"depends_on": {"migrate": {"condition": "service_completed_successfully"}}},
        other={},
    )
    thread = threading.Thread(
        target=start_in_order,
        args=(subject, recorder.start, recorder.wait_healthy),
        kwargs={"wait_completed": wait_completed},
        daemon=True,
    )
    thread.start()
    thread.join(WAIT)
    assert completed == ["migrate"]
    assert recorder.when("completed", "migrate") <= recorder.when("start", "api")
    assert startup.jobs(subject) == {"migrate"}


def test_a_job_that_fails_stops_what_waits_for_it() -> None:
    recorder = Recorder()
    subject = scenario(
        migrate={},
        api={"depends_on": {"migrate": {"condition": "service_completed_successfully"}}},
    )

    def failed(_name: str) -> None:
        raise RuntimeError("exited with code 1")

    with pytest.raises(RuntimeError, match="code 1"):
        start_in_order(subject, recorder.start, recorder.wait_healthy, wait_completed=failed)
    assert not recorder.happened("start", "api")


def test_an_optional_dependency_that_is_not_in_the_stack_is_skipped() -> None:
    subject = scenario(api={"depends_on": {"debug": {"required": False}}})
    assert dependencies(subject, "api") == {}
