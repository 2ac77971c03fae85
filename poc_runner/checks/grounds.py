"""What a check may conclude from evidence that is not a whole, successful piece of this run's
work (spec, "Evidence belongs to the run"): the one table every check follows, and the README
copies (a unit test keeps the two the same and walks every check type through every row).

A figure about how well a step did its job (`duration`, `metric`) proves nothing when the step
failed, timed out or did not run. What a step produced (its exit code, its output, an artifact
it collects) is judged on what this run's step left, also when it failed, since that is what
the product did; but a step that timed out was cut short, so what it left is incomplete, and
after a failure an artifact's absence proves nothing. An artifact missing, empty or unreadable
is the check's own business: each check type's row says what it concludes. On a reused
sandbox the artifact paths are removed before the steps run (backends/docker/artifacts.py),
so what a check reads was left by this run's steps. Checks run in the sandbox (`sql`, `http`,
`command`, `isolation`, and `data`/`schema` on a table or a data item) read no step and no artifact:
they judge the services (or the prospect's data) as the steps left them.

`admit` applies the step columns to any check's judgement, after the check has judged; the
artifact columns are what each check does itself, written down here and tested.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from poc_runner.checks.artifacts import local_path, producer
from poc_runner.checks.evidence import Evidence, Judgement
from poc_runner.result import StepOutcome


class Case(StrEnum):
    """The rows of the table: what may be wrong with a check's evidence."""

    FAILED = "its step failed"
    TIMED_OUT = "its step timed out"
    NOT_RUN = "its step did not run"
    MISSING = "its artifact is missing"
    EMPTY = "its artifact is empty"
    UNREADABLE = "its artifact is unreadable"


class Conclusion(StrEnum):
    JUDGED = "judged"  # on what this run produced, as it is
    PRESENT_ONLY = "judged if there"  # on what the step left; its absence proves nothing
    NOT_MET = "not met"  # and the evidence says why
    NONE = "-"  # the check reads no step or no artifact


J, P, N, X = Conclusion.JUDGED, Conclusion.PRESENT_ONLY, Conclusion.NOT_MET, Conclusion.NONE
_STEP_ONLY = {Case.MISSING: X, Case.EMPTY: X, Case.UNREADABLE: X}
_NO_STEP = {Case.FAILED: X, Case.TIMED_OUT: X, Case.NOT_RUN: X, **_STEP_ONLY}
_ON_ARTIFACT = {Case.FAILED: P, Case.TIMED_OUT: N, Case.NOT_RUN: N, Case.MISSING: N}
# `file` judges a missing artifact (`exists: false` is met by a step that passed without
# writing it) and an empty one (it exists, 0 bytes)

# Per kind of check (a check type; `json` twice, by what it reads), per case: the conclusion.
RULES: dict[str, dict[Case, Conclusion]] = {
    "exit_code": {Case.FAILED: J, Case.TIMED_OUT: N, Case.NOT_RUN: N, **_STEP_ONLY},
    "output": {Case.FAILED: J, Case.TIMED_OUT: N, Case.NOT_RUN: N, **_STEP_ONLY},
    "duration": {Case.FAILED: N, Case.TIMED_OUT: N, Case.NOT_RUN: N, **_STEP_ONLY},
    "metric": {Case.FAILED: N, Case.TIMED_OUT: N, Case.NOT_RUN: N, **_STEP_ONLY},
    "json (stdout)": {  # the step's stdout is what it reads: "empty" is an empty output
        Case.FAILED: J,
        Case.TIMED_OUT: N,
        Case.NOT_RUN: N,
        Case.MISSING: X,
        Case.EMPTY: N,
        Case.UNREADABLE: N,
    },
    "json (artifact)": {**_ON_ARTIFACT, Case.EMPTY: N, Case.UNREADABLE: N},
    "file": {**_ON_ARTIFACT, Case.MISSING: J, Case.EMPTY: J, Case.UNREADABLE: N},
    "csv": {**_ON_ARTIFACT, Case.EMPTY: N, Case.UNREADABLE: N},
    # `data` and `schema` read an artifact (a CSV) like `csv`; on a table or a data item they
    # read no step and no artifact, as the checks run in the sandbox
    "data": {**_ON_ARTIFACT, Case.EMPTY: N, Case.UNREADABLE: N},
    "schema": {**_ON_ARTIFACT, Case.EMPTY: N, Case.UNREADABLE: N},
    "sql": _NO_STEP,
    "http": _NO_STEP,
    "command": _NO_STEP,
    "isolation": _NO_STEP,
}

# What a step's figure would be taken for, in the words of a criterion not met on it.
_PERFORMANCE = {
    "duration": "its duration proves nothing",
    "metric": "a figure it printed proves nothing",
}


def kind_of(check: Any) -> str:
    """The table's row of a check: its type, `json` split by what it reads."""
    if check.type == "json":
        return "json (stdout)" if getattr(check, "artifact", None) is None else "json (artifact)"
    return str(check.type)


def admit(check: Any, evidence: Evidence, judgement: Judgement) -> Judgement:
    """The judgement as far as the table lets it stand, given how the step it rests on ended:
    not met (saying why, with no figure) where the table says so, and noting a failed step
    where what it left is judged all the same."""
    rules = RULES.get(kind_of(check))
    artifact: str | None = getattr(check, "artifact", None)
    name = _resting_on(check, evidence, artifact)
    if rules is None or name is None:
        return judgement
    step = evidence.steps.get(name)
    outcome = step.outcome if step is not None else StepOutcome.NOT_RUN
    case = _CASES.get(outcome)
    if case is None:
        return judgement
    conclusion = rules[case]
    if conclusion is Conclusion.NOT_MET:
        return Judgement(False, None, judgement.expected, _why(check, name, evidence, artifact))
    assert step is not None  # a step that ran
    failed = f"step {name!r} failed (exit {step.exit_code})"
    absent = (
        conclusion is Conclusion.PRESENT_ONLY and not local_path(evidence, str(artifact)).exists()
    )
    if absent and judgement.passed:  # `exists: false`: after a failure, absence proves nothing
        why = f"{failed} and did not write artifact {artifact}: after a failure, its"
        return Judgement(False, None, judgement.expected, f"{why} absence proves nothing")
    if check.type == "exit_code":
        return judgement  # the exit code is the evidence itself
    return Judgement(
        judgement.passed, judgement.measured, judgement.expected, f"{judgement.evidence} ({failed})"
    )


_CASES = {
    StepOutcome.FAILED: Case.FAILED,
    StepOutcome.TIMED_OUT: Case.TIMED_OUT,
    StepOutcome.NOT_RUN: Case.NOT_RUN,
}


def _resting_on(check: Any, evidence: Evidence, artifact: str | None) -> str | None:
    """The step whose work the check judges: its `step`, or the step that collected its
    artifact (the last that ran: its copy is the one read). When no step that collects the
    artifact ran, the check itself says so (`artifacts.absence`)."""
    if artifact is not None:
        return producer(evidence, artifact)
    step = getattr(check, "step", None)
    return str(step) if step is not None else None


def _why(check: Any, name: str, evidence: Evidence, artifact: str | None) -> str:
    """Why a criterion is not met on this step's account, in the words of its evidence."""
    step = evidence.steps.get(name)
    if step is None or not step.ran:
        return f"step {name!r} never ran, so there is nothing to judge"
    how = step.outcome.words(step.exit_code)
    if step.timed_out:
        how = f"timed out after {step.duration_s:.1f} s"
    if check.type in _PERFORMANCE:
        return f"step {name!r} {how}: {_PERFORMANCE[check.type]}"
    if artifact is not None:
        return f"step {name!r} {how}: artifact {artifact} may be incomplete, so it proves nothing"
    if check.type == "exit_code":
        return f"step {name!r} {how}: it has no exit code"
    return f"step {name!r} {how}: its output is incomplete, so it proves nothing"
