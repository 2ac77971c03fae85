"""What the checks that run inside the sandbox (`sql`, `http`, `command`) have in common.

They are judged while the sandbox is up, so they share three answers: a time limit (a check
that hangs fails, it does not hold the run), what to say when there is no sandbox to run in
(it failed to come up: the run's verdict is `error`, and the check is not judged), and what to
say when the service the check runs in has stopped (the product failed: the check fails with
the reason, as a step does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from poc_runner.checks.evidence import Judgement, missing
from poc_runner.errors import ServiceStopped

if TYPE_CHECKING:
    from poc_runner.backend import Outcome, SandboxAccess

TIMEOUT = 60.0  # seconds per check; read at call time, so tests can shorten it
NOT_RUNNING = "not judged: the sandbox was not running"


def not_running(expected: Any = None) -> Judgement:
    return missing(NOT_RUNNING, expected)


def timed_out(what: str, expected: Any = None) -> Judgement:
    return missing(f"{what} did not finish within {TIMEOUT:g} s, so it was stopped", expected)


def run_in(
    sandbox: SandboxAccess,
    service: str,
    argv: list[str],
    expected: Any = None,
    environment: dict[str, str] | None = None,
) -> Outcome | Judgement:
    """The outcome of `argv` in the service, or a failed judgement naming why it could not run.

    Errors of the engine itself (unreachable, the sandbox torn down by Ctrl-C) are not caught:
    they are the sandbox's, and make the run's verdict `error`."""
    if service not in sandbox.scenario.services:
        return missing(f"{service!r} is not a service of this scenario", expected)
    try:
        return sandbox.exec(service, argv, TIMEOUT, environment)
    except ServiceStopped as exc:  # the product's service stopped: the check fails, with why
        return missing(f"could not run in service {service!r}: {exc}", expected)


def output(outcome: Outcome) -> str:
    """Both streams, stdout first, for evidence and error messages."""
    return "\n".join(
        text for text in (outcome.stdout.text().strip(), outcome.stderr.text().strip()) if text
    )
