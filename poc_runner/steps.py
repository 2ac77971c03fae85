"""Running the scenario's steps: the job, done by the product (spec, "steps"), on any sandbox.

Steps run in file order, each in its service (`Sandbox.exec`). A step fails when it exits
non-zero or times out; a failed step ends the steps unless it says `continue_on_error`. A
service found stopped when a step needs it fails that step, saying why; a fault of the sandbox
(a service out of memory, over its disk limit, removed under the run) ends the steps, and the
run's verdict is `error`. Each step's output goes to `steps/<name>.out` (stdout) and
`steps/<name>.err` (stderr), bounded (see `capture`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from poc_runner.backend import Sandbox
from poc_runner.errors import ArtifactRefused, SandboxError, ServiceStopped, world_failure
from poc_runner.events import Event, OnEvent
from poc_runner.model.scenario import Step
from poc_runner.plan import command_argv
from poc_runner.result import StepRecord
from poc_runner.sandbox.capture import Capture

LAST_LINES = 5  # of a failed step's output, on screen and in the reports


@dataclass
class StepResult(StepRecord):
    """A step as the checks see it: its record (result.json), and what it wrote, as kept."""

    started: float = 0.0  # time.monotonic() when it began
    stdout: str = ""
    stderr: str = ""
    secrets_seen: dict[str, set[str]] = field(default_factory=dict, repr=False)  # see Capture

    def output(self, stream: str) -> str:
        """What the step wrote to `stream` (stdout or stderr), as kept (see `capture`)."""
        return self.stdout if stream == "stdout" else self.stderr

    def seen(self, stream: str) -> set[str]:
        """The secret forms masked in `stream`: the output no longer shows them (see `capture`)."""
        return self.secrets_seen.get(stream, set())


@dataclass(frozen=True)
class StepsRun:
    """The steps as far as they got (one entry per step from the start, so what ran is on
    record when an error of the sandbox ends them half way), and that error, if one did."""

    steps: tuple[StepResult, ...]
    failure: Exception | None = None


def run_steps(sandbox: Sandbox, steps: list[Step], run_folder: Path, on_event: OnEvent) -> StepsRun:
    results = [StepResult(step.name, step.service) for step in steps]
    folder = run_folder / "steps"
    folder.mkdir(parents=True, exist_ok=True)
    scenario = sandbox.scenario.name

    def announce(step: str, status: str) -> None:
        on_event(Event(scenario, f"step {step}", status, active=status == "running"))

    try:
        for step, result in zip(steps, results, strict=True):
            remaining = sandbox.remaining()
            if remaining <= 0:
                raise SandboxError(
                    f"the run reached its sandbox.timeout before step {step.name!r} could start"
                )
            announce(step.name, "running")
            _run_one(sandbox, step, result, folder, run_folder, min(step.timeout, remaining))
            announce(step.name, _summary(result))
            # a service out of memory, over its disk limit or removed: the run ends here (asked
            # now when the step failed, so the fault that failed it is the run's error)
            checkpoint(sandbox, read=not result.passed)
            if not result.passed and not step.continue_on_error:
                break
        checkpoint(sandbox)
    except Exception as exc:  # the pipeline says what it means (pipeline.failure)
        return StepsRun(tuple(results), exc)
    return StepsRun(tuple(results))


def checkpoint(sandbox: Sandbox, *, read: bool = True) -> None:
    """A fault of the sandbox ends the run here, as a sandbox error (with `read`, the engine
    is asked now: after the last step, a failed one, or the checks run in the sandbox)."""
    fault = sandbox.fault(read=read)
    if fault is not None:
        raise SandboxError(fault.message)


def _run_one(
    sandbox: Sandbox, step: Step, result: StepResult, folder: Path, run_folder: Path, limit: float
) -> None:
    stdout, stderr = Capture(folder / f"{step.name}.out"), Capture(folder / f"{step.name}.err")
    try:
        outcome = sandbox.exec(
            step.service,
            command_argv(step.run),
            limit,
            step.environment,
            workdir=step.workdir,
            stdout=stdout,
            stderr=stderr,
        )
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
    result.last_lines = _last_lines(result)
    if outcome.timed_out and limit < step.timeout:
        result.error = "stopped: the run reached its sandbox.timeout"
    uncleared = sandbox.uncleared()
    for path in step.artifacts:
        if (left := uncleared.get((step.service, path))) is not None:
            result.artifacts[path] = False  # what is there may be an earlier run's: no evidence
            result.artifact_errors[path] = (
                f"artifact {path} was not copied: it could not be removed before the steps of"
                f" this reused sandbox ({left}), so what is there may be an earlier run's"
            )
            continue
        try:
            result.artifacts[path] = sandbox.copy_out(step.service, path, run_folder / "artifacts")
        except ArtifactRefused as exc:  # the product's doing: the criteria on it fail
            result.artifacts[path] = False
            result.artifact_errors[path] = str(exc)


def _last_lines(result: StepResult) -> list[str]:
    """Why a step that ran failed, in its own words: the last lines of its stderr, else of its
    stdout (masked, as kept); nothing for a step that passed."""
    if not result.ran or result.passed:
        return []
    for text in (result.stderr, result.stdout):
        if lines := [line for line in text.splitlines() if line.strip()]:
            return lines[-LAST_LINES:]
    return []


def _summary(result: StepResult) -> str:
    if not result.ran:
        return result.error or result.outcome.words(None)
    return f"{result.outcome.words(result.exit_code)} in {result.duration_s:.1f} s"
