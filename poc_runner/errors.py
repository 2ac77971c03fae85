"""One error hierarchy, one exit code per kind of outcome.

The exit codes are part of the command-line contract (spec, "Command line and exit codes"), so
they live here once and every command maps its outcome through them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    PASSED = 0
    FAILED = 1
    INVALID_INPUT = 2
    SANDBOX_ERROR = 3
    INTERRUPTED = 130


class PocError(Exception):
    """An error whose message is written for the person at the keyboard, not for a developer."""

    exit_code: ExitCode = ExitCode.SANDBOX_ERROR


class InvalidInput(PocError):
    """The scenario, a path or an argument is wrong; nothing was started."""

    exit_code = ExitCode.INVALID_INPUT


class SandboxError(PocError):
    """The sandbox could not be brought up, used or torn down: verdict `error`, never `fail`."""

    exit_code = ExitCode.SANDBOX_ERROR


class Interrupted(PocError):
    """The run was stopped by Ctrl-C or SIGTERM; the sandbox was torn down on the way out."""

    exit_code = ExitCode.INTERRUPTED
