"""Judging each criterion on the evidence a run collected (spec, "acceptance").

One module per check type, each a `judge(check, evidence) -> Judgement`. A check whose evidence
is missing (its step never ran, its artifact was not produced) fails and says why; it is never
an error of the sandbox. What a judgement may rest on (a step that failed or timed out, an
artifact missing, empty or unreadable) follows one table, grounds.py, for every check type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from poc_runner.checks.command import judge_command
from poc_runner.checks.compare import Incomparable, expectation
from poc_runner.checks.compare import compare as satisfies
from poc_runner.checks.csv_check import judge_csv
from poc_runner.checks.data import judge_data
from poc_runner.checks.evidence import Evidence, Judgement, missing
from poc_runner.checks.file_check import judge_file
from poc_runner.checks.grounds import admit
from poc_runner.checks.http import judge_http
from poc_runner.checks.isolation import judge_isolation
from poc_runner.checks.json_check import judge_json
from poc_runner.checks.metric import judge_metric
from poc_runner.checks.schema import judge_schema
from poc_runner.checks.sql import judge_sql
from poc_runner.checks.steps import judge_duration, judge_exit_code, judge_output
from poc_runner.model import Scenario
from poc_runner.model.checks import HttpCheck
from poc_runner.model.data import DataCheck, natural_unit
from poc_runner.model.scenario import Criterion
from poc_runner.result import CriterionResult, Status
from poc_runner.scoring import improvement
from poc_runner.units import parse_duration

Judge = Callable[[Any, Evidence], Judgement]
_MAX_FACTOR = CriterionResult.max_factor  # a result's default, where no baseline gives one

JUDGES: dict[str, Judge] = {
    "exit_code": judge_exit_code,
    "duration": judge_duration,
    "output": judge_output,
    "json": judge_json,
    "file": judge_file,
    "metric": judge_metric,
    "csv": judge_csv,
    "sql": judge_sql,
    "http": judge_http,
    "command": judge_command,
    "isolation": judge_isolation,
    "data": judge_data,
    "schema": judge_schema,
}


def judge(check: Any, evidence: Evidence) -> Judgement:
    """The check's judgement, as far as the evidence it rests on lets it stand (grounds.py)."""
    judge_one = JUDGES.get(check.type)
    if judge_one is None:
        return missing(f"{check.type} checks are not evaluated by this version of poc-runner")
    return admit(check, evidence, judge_one(check, evidence))


def judge_criteria(scenario: Scenario, evidence: Evidence) -> list[CriterionResult]:
    """Every criterion, in file order, with what was measured and, where a baseline is given
    and the criterion was met, the improvement over the prospect's current solution (a figure
    on a criterion that was not met would praise a failure)."""
    return [_judge_criterion(criterion, evidence) for criterion in scenario.acceptance.criteria]


def _judge_criterion(criterion: Criterion, evidence: Evidence) -> CriterionResult:
    judgement = judge(criterion.check, evidence)
    baseline = criterion.baseline.value if criterion.baseline else None
    gained = baseline is not None and judgement.passed
    near = criterion.near
    return CriterionResult(
        id=criterion.id,
        title=criterion.title,
        passed=judgement.passed,
        must=criterion.must,
        weight=criterion.weight,
        measured=judgement.measured,
        expected=judgement.expected,
        evidence=judgement.evidence,
        stakeholders=list(criterion.for_),
        check=criterion.check.type,
        baseline=baseline,
        improvement=_improvement(criterion, baseline, judgement) if gained else None,
        unit=criterion.unit or _natural_unit(criterion),
        headline=criterion.headline,
        max_factor=criterion.baseline.max_factor if criterion.baseline else _MAX_FACTOR,
        status=_status(criterion, judgement),
        near=expectation(near.op, _in_unit(criterion, near.value)) if near else None,
        remainder=criterion.baseline.remainder if criterion.baseline else None,
        failing_rows=judgement.rows,
    )


def _status(criterion: Criterion, judgement: Judgement) -> Status:
    """Met, close (not met, but its figure satisfies `near`), or not met. (Not judged is the
    run's to say: the sandbox failed.)"""
    if judgement.passed:
        return Status.MET
    near, measured = criterion.near, figure_of(criterion.check, judgement.measured)
    if near is None or measured is None:
        return Status.NOT_MET
    try:
        close = satisfies(measured, near.op, _in_unit(criterion, near.value))
    except Incomparable:
        return Status.NOT_MET
    return Status.CLOSE if close else Status.NOT_MET


def figure_of(check: Any, measured: Any) -> Any:
    """The figure a check's `near` compares: the measured value, an http check's latency."""
    if isinstance(check, HttpCheck):
        return measured.get("latency_ms") if isinstance(measured, dict) else None
    return measured


def _in_unit(criterion: Criterion, value: Any) -> Any:
    """A bound as the check measures it: durations (2m) in seconds where it measures time."""
    if not criterion.in_seconds:
        return value
    if isinstance(value, list):
        return [_in_unit(criterion, item) for item in value]
    try:
        return parse_duration(value)
    except ValueError:
        return value


def _natural_unit(criterion: Criterion) -> str | None:
    check = criterion.check
    return natural_unit(check) if isinstance(check, DataCheck) else None


def _improvement(criterion: Criterion, baseline: object, judgement: Judgement) -> float | None:
    """The factor over the baseline, measured on the figure the criterion compares: an http
    check's baseline is its latency."""
    check = criterion.check
    measured, op = judgement.measured, getattr(check, "op", ">=")
    if isinstance(check, HttpCheck) and check.latency_ms is not None:
        measured = measured.get("latency_ms") if isinstance(measured, dict) else None
        op = check.latency_ms.op
    return improvement(baseline, measured, op, criterion.in_seconds)


__all__ = ["Evidence", "Judgement", "judge", "judge_criteria"]
