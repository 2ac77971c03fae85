"""One error hierarchy, one exit code per kind of outcome.

The exit codes are part of the command-line contract (spec, "Command line and exit codes"), so
they live here once and every command maps its outcome through them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poc_runner.diagnostics import Diagnostic
    from poc_runner.result import RunResult


class ExitCode(IntEnum):
    PASSED = 0
    FAILED = 1
    INVALID_INPUT = 2
    SANDBOX_ERROR = 3
    INTERRUPTED = 130


class PocError(Exception):
    """An error whose message is written for the person at the keyboard, not for a developer.
    The base of every error a public function raises (docs/python-api.md): `exit_code` is
    what `poc` exits with for it."""

    exit_code: ExitCode = ExitCode.SANDBOX_ERROR


class InvalidInput(PocError):
    """The scenario, a path or an argument is wrong; nothing was started. `diagnostics` holds
    each problem of a scenario file at its line (empty when the input was not a file's)."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics: list[Diagnostic] = list(diagnostics)

    def __reduce__(self) -> tuple[type[InvalidInput], tuple[str, list[Diagnostic]]]:
        return type(self), (str(self), self.diagnostics)  # pickled whole (worker processes)


class SandboxError(PocError):
    """The sandbox could not be brought up, used or torn down: verdict `error`, never `fail`."""

    exit_code = ExitCode.SANDBOX_ERROR


class ServiceStopped(SandboxError):
    """A service is not running. During start-up the sandbox failed (verdict `error`); once the
    services are up, the product stopped, and what needs the service fails, saying why."""


class ArtifactRefused(PocError):
    """An artifact the product wrote cannot be copied as it is (too big, too many files, a
    malformed or unsafe archive): it is not copied, and the criteria on it fail, saying why.
    The product's doing, never the sandbox's."""


class VerdictFailed(PocError):
    """A run judged the product and its verdict is fail (`RunResult.raise_for_verdict`):
    `result` is the run, with every criterion and the run folder."""

    exit_code = ExitCode.FAILED

    def __init__(self, message: str, result: RunResult) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> tuple[type[VerdictFailed], tuple[str, RunResult]]:
        return type(self), (str(self), self.result)


class Interrupted(PocError):
    """The run was stopped by Ctrl-C or SIGTERM; the sandbox was torn down on the way out."""

    exit_code = ExitCode.INTERRUPTED


class EngineLost(SandboxError):
    """The engine stopped answering: the world outside failed, not poc-runner."""

    def __init__(self, message: str, engine: str = "container") -> None:
        super().__init__(message)
        self.engine = engine  # which, in words: "Docker"


class ToolUnavailable(PocError):
    """A program poc-runner calls on this machine (Chromium, to print a PDF) is not installed
    or failed: the machine's doing, not the scenario's nor the product's."""


class CannotWrite(PocError):
    """A file poc-runner writes could not be written (a full disk, a read-only folder)."""


Translate = Callable[[BaseException], "PocError | None"]
TRANSLATORS: list[Translate] = []  # each backend's, registered when it is imported


def world_failure(exc: BaseException) -> PocError | None:
    """A failure of the world outside poc-runner (the engine, the disk, permissions) as an error
    in the words of the person at the keyboard; None for anything else, which is a bug. What an
    engine's own errors mean is its backend's to say (backends/docker/errors.py): only backends
    imported are asked, since an error of a library never imported cannot have happened."""
    if isinstance(exc, PocError):
        return exc
    for translate in TRANSLATORS:
        if (known := translate(exc)) is not None:
            return known
    if isinstance(exc, ConnectionError):  # a run talks to no socket but the engine's
        return EngineLost(f"the engine stopped answering ({reason(exc)})")
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return CannotWrite(f"could not use{where}: {exc.strerror or exc}")
    return None


_SSH_SAID = re.compile(r"ssh to [^:]+: ([^'\")]+)")  # sshlink.py's words for a failed link


def reason(exc: BaseException) -> str:
    """The gist of a connection error's long text: `connection refused`, say; for an `ssh://`
    engine, what ssh itself said (`Host key verification failed.`)."""
    text = str(exc)
    if said := _SSH_SAID.search(text):
        return f"ssh: {said[1].strip()}"
    for marker in (
        "Connection refused",
        "Connection reset",
        "No such file or directory",
        "Permission denied",
        "Connection aborted",
        "Broken pipe",
    ):
        if marker in text:
            return marker.lower()
    return text.splitlines()[0][:120] if text else type(exc).__name__
