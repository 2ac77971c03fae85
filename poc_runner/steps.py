"""Running the scenario's steps: the job, done by the product (spec, "steps").

Steps run in file order through exec. A step fails when it exits non-zero or times out; a
failed step ends the steps unless it says `continue_on_error`. A service found stopped when a
step needs it ends the run with verdict `error`, its last log lines in the message. Each
step's output goes to `steps/<name>.out` (stdout) and `steps/<name>.err` (stderr), bounded
(see `capture`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from poc_runner.backends.docker.artifacts import collect
from poc_runner.backends.docker.execute import command_argv, execute
from poc_runner.backends.docker.sandbox import Sandbox
from poc_runner.errors import ArtifactRefused, SandboxError, ServiceStopped, world_failure
from poc_runner.model.scenario import Step
from poc_runner.result import StepOutcome
from poc_runner.sandbox.capture import Capture


@dataclass
class StepResult:
    name: str
    service: str
    exit_code: int | None = None
    started: float = 0.0  # time.monotonic() when it began
    duration_s: float = 0.0
    timed_out: bool = False
    ran: bool = False
    error: str | None = None
    stdout: str = ""
    stderr: str = ""
    output_bytes: dict[str, int] = field(default_factory=dict)
    secrets_seen: dict[str, set[str]] = field(default_factory=dict, repr=False)  # see Capture
    artifacts: dict[str, bool] = field(default_factory=dict)  # container path -> copied
    artifact_errors: dict[str, str] = field(default_factory=dict)  # why one was not copied

    def output(self, stream: str) -> str:
        """What the step wrote to `stream` (stdout or stderr), as kept (see `capture`)."""
        return self.stdout if stream == "stdout" else self.stderr

    def seen(self, stream: str) -> set[str]:
        """The secret forms masked in `stream`: the output no longer shows them (see `capture`)."""
        return self.secrets_seen.get(stream, set())

    @property
    def outcome(self) -> StepOutcome:
        return StepOutcome.of(self.ran, self.timed_out, self.exit_code)

    @property
    def passed(self) -> bool:
        return self.outcome is StepOutcome.PASSED

    @property
    def last_lines(self) -> list[str]:
        """Why a step that ran failed, in its own words: the last lines of its stderr, else of
        its stdout (masked, as kept); nothing for a step that passed."""
        if not self.ran or self.passed:
            return []
        for text in (self.stderr, self.stdout):
            if lines := [line for line in text.splitlines() if line.strip()]:
                return lines[-LAST_LINES:]
        return []


Announce = Callable[[str, str], None]  # (step, what is happening)
KILLED = 128 + 9  # a step's exit code when SIGKILL ended it
LAST_LINES = 5  # of a failed step's output, on screen and in the reports


def run_steps(
    sandbox: Sandbox,
    steps: list[Step],
    run_folder: Path,
    announce: Announce,
    results: list[StepResult],
) -> None:
    """Run the steps into `results`, one entry per step from the start, so that what ran is
    on record even when an error of the sandbox ends the steps half way."""
    results[:] = [StepResult(step.name, step.service) for step in steps]
    folder = run_folder / "steps"
    folder.mkdir(parents=True, exist_ok=True)
    for step, result in zip(steps, results, strict=True):
        remaining = sandbox.remaining()
        if remaining <= 0:
            raise SandboxError(
                f"the run reached its sandbox.timeout before step {step.name!r} could start"
            )
        announce(step.name, "running")
        _run_one(sandbox, step, result, folder, run_folder, min(step.timeout, remaining))
        announce(step.name, _summary(result))
        if result.exit_code == KILLED:  # its container may be on its way out: let it go
            sandbox.settle(step.service)
        # a service out of memory, over its disk limit or removed: the run ends here (asked
        # now when the step failed, so the fault that failed it is the run's error)
        sandbox.checkpoint(read=not result.passed)
        if not result.passed and not step.continue_on_error:
            break
    sandbox.checkpoint(read=True)


def _run_one(
    sandbox: Sandbox, step: Step, result: StepResult, folder: Path, run_folder: Path, limit: float
) -> None:
    import docker

    container = sandbox.containers[step.service]
    stdout, stderr = Capture(folder / f"{step.name}.out"), Capture(folder / f"{step.name}.err")
    try:
        try:
            outcome = execute(
                container,
                command_argv(step.run),
                timeout=limit,
                environment=step.environment,
                workdir=step.workdir,
                stdout=stdout,
                stderr=stderr,
            )
        except docker.errors.APIError:
            sandbox.ensure_running(step.service)  # why it could not run, if it stopped
            raise
    except ServiceStopped as exc:  # the product stopped: this step fails, saying why
        result.error = f"could not run: {exc}"
        return
    except Exception as exc:  # on record in result.json, whatever ended the step
        result.error = f"did not finish: {world_failure(exc) or exc}"
        raise
    result.ran = True
    result.started = time.monotonic() - outcome.duration_s
    result.exit_code, result.timed_out = outcome.exit_code, outcome.timed_out
    result.duration_s = round(outcome.duration_s, 3)
    result.stdout, result.stderr = stdout.text(), stderr.text()
    result.output_bytes = {"stdout": stdout.total, "stderr": stderr.total}
    result.secrets_seen = {"stdout": stdout.seen, "stderr": stderr.seen}
    if outcome.timed_out and limit < step.timeout:
        result.error = "stopped: the run reached its sandbox.timeout"
    for path in step.artifacts:
        if (left := sandbox.uncleared.get((step.service, path))) is not None:
            result.artifacts[path] = False  # what is there may be an earlier run's: no evidence
            result.artifact_errors[path] = (
                f"artifact {path} was not copied: it could not be removed before the steps of"
                f" this reused sandbox ({left}), so what is there may be an earlier run's"
            )
            continue
        try:
            result.artifacts[path] = collect(container, path, run_folder)
        except ArtifactRefused as exc:  # the product's doing: the criteria on it fail
            result.artifacts[path] = False
            result.artifact_errors[path] = str(exc)


def _summary(result: StepResult) -> str:
    if not result.ran:
        return result.error or result.outcome.words(None)
    return f"{result.outcome.words(result.exit_code)} in {result.duration_s:.1f} s"
