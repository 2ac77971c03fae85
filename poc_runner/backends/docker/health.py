"""Waiting for a service to be healthy, by running its healthcheck ourselves.

Engine 20.10 has no `start_interval`: its first check runs only after a full `interval`. The
runner instead runs the `test` command through exec, every 20 ms for the first few seconds
(most services are ready within them, and every check saved is start-up time saved) and then
every `interval`. It is as patient as Compose, no more (see `Patience`): a check that fails at
once is not waited out as if it had taken its whole `timeout`, so a healthcheck on the wrong
port gives up after about `start_period + retries x interval`, not ten minutes later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from poc_runner.backend import Outcome
from poc_runner.backends.docker.execute import execute
from poc_runner.errors import SandboxError, ServiceStopped
from poc_runner.model.services import Healthcheck
from poc_runner.plan import healthcheck_argv

if TYPE_CHECKING:
    from docker.models.containers import Container

_EAGER_PAUSE = 0.02
_EAGER_SECONDS = 5.0
_SHOWN = 120  # characters of the last check's output in the live display


@dataclass
class Patience:
    """Failed checks counted as Docker counts them. Docker checks every `interval` (each check
    bounded by `timeout`) and does not count failures within `start_period`; so the k-th
    failure counts once `start_period + k * interval` has passed, however many eager checks
    failed in between, and `retries` counted failures give up."""

    check: Healthcheck
    started: float  # time.monotonic() when the service started
    counted: int = 0

    @property
    def retries(self) -> int:
        return max(self.check.retries, 1)

    def failed(self, now: float) -> bool:
        """Note a failed check at `now`; whether it counted."""
        due = self.started + self.check.start_period + (self.counted + 1) * self.check.interval
        if now < due:
            return False
        self.counted += 1
        return True

    @property
    def exhausted(self) -> bool:
        return self.counted >= self.retries


Report = Callable[[str], None]


def wait_healthy(
    container: Container,
    service: str,
    check: Healthcheck,
    report: Report = lambda _status: None,
    logs: int = 20,
) -> float:
    """Seconds until the first passing check; raises with the service's last log lines. Each
    failure that counts is reported: which attempt, and what the check said."""
    argv = healthcheck_argv(check)
    started = time.monotonic()
    patience = Patience(check, started)
    while True:
        outcome = _check(container, service, argv, check.timeout, logs)
        if outcome.exit_code == 0:
            return time.monotonic() - started
        said = _said(outcome)
        if patience.failed(time.monotonic()):
            attempt = f"{patience.counted}/{patience.retries}"
            report(f"waiting to be healthy: check {attempt} failed: {said[:_SHOWN]}")
        if patience.exhausted:
            raise SandboxError(
                f"service {service!r} never became healthy: {patience.retries} checks failed"
                f" over {time.monotonic() - started:.0f} s (last check: {said})"
                + last_logs(container, logs)
            )
        eager = time.monotonic() - started < _EAGER_SECONDS
        time.sleep(_EAGER_PAUSE if eager else max(check.interval, _EAGER_PAUSE))


def _said(outcome: Outcome) -> str:
    if outcome.timed_out:
        return "timed out"
    text = " ".join((outcome.stdout.text() + outcome.stderr.text()).split())
    return text[-300:] or f"exit code {outcome.exit_code}, no output"


def _check(
    container: Container, service: str, argv: list[str], timeout: float, logs: int
) -> Outcome:
    """One run of the healthcheck; a service that has stopped cannot run it, and says why."""
    import docker

    try:
        return execute(container, argv, timeout=timeout)
    except docker.errors.APIError:
        raise_if_stopped(container, service, logs)
        raise


def raise_if_stopped(container: Container, service: str, logs: int = 20) -> None:
    """ServiceStopped with the service's exit code and last log lines if it is not running."""
    container.reload()
    if container.status != "running":
        raise ServiceStopped(_exited_message(container, service, logs))


def _exited_message(container: Container, service: str, lines: int = 20) -> str:
    state = container.attrs.get("State", {})
    return (
        f"service {service!r} stopped (exit code {state.get('ExitCode', '?')})"
        + (" because it ran out of memory" if state.get("OOMKilled") else "")
        + last_logs(container, lines)
    )


def tail(container: Container, lines: int) -> list[str]:
    """The service's last log lines (none when the engine cannot give them)."""
    try:
        text = str(container.logs(tail=lines).decode("utf-8", errors="replace")).rstrip()
    except Exception:  # the logs are a courtesy in an error message, never a second error
        return []
    return text.splitlines()[-lines:]


def last_logs(container: Container, lines: int) -> str:
    found = tail(container, lines)
    if not found:
        return "; it wrote no log output"
    body = "\n".join(f"  | {line}" for line in found)
    return f"; its last log lines:\n{body}"
