"""Waiting for a service to be healthy, by running its healthcheck ourselves.

Engine 20.10 has no `start_interval`: its first check runs only after a full `interval`. The
runner instead runs the `test` command through exec, every 20 ms for the first few seconds
(most services are ready within them, and every check saved is start-up time saved) and then
every `interval`, and gives up after the patience Compose would have shown: `start_period`,
then `retries` failed checks of up to `timeout` each, `interval` apart.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from poc_runner.errors import SandboxError, ServiceStopped
from poc_runner.model.services import Healthcheck
from poc_runner.sandbox.execute import Outcome, command_argv, execute

if TYPE_CHECKING:
    from docker.models.containers import Container

_EAGER_PAUSE = 0.02
_EAGER_SECONDS = 5.0


def healthcheck_argv(check: Healthcheck) -> list[str]:
    test = check.test
    if isinstance(test, str):
        return command_argv(test)
    if test[0] == "CMD-SHELL":
        return command_argv(test[1])
    return list(test[1:])  # "CMD"


def patience(check: Healthcheck) -> float:
    return check.start_period + max(check.retries, 1) * (check.interval + check.timeout)


def wait_healthy(container: Container, service: str, check: Healthcheck, logs: int = 20) -> float:
    """Seconds until the first passing check; raises with the service's last log lines."""
    argv = healthcheck_argv(check)
    started = time.monotonic()
    deadline = started + patience(check)
    last = ""
    while True:
        outcome = _check(container, service, argv, check.timeout, logs)
        if outcome.exit_code == 0:
            return time.monotonic() - started
        last = (outcome.stdout.text() + outcome.stderr.text()).strip()[-300:]
        eager = time.monotonic() - started < _EAGER_SECONDS
        pause = _EAGER_PAUSE if eager else max(check.interval, _EAGER_PAUSE)
        if time.monotonic() + pause > deadline:
            raise SandboxError(
                f"service {service!r} never became healthy within {patience(check):.0f} s"
                f" (last check: {'timed out' if outcome.timed_out else last or 'no output'})"
                + last_logs(container, logs)
            )
        time.sleep(pause)


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
