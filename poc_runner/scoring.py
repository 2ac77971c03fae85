"""The score and the verdict, exactly as the spec defines them (spec, "acceptance").

score = weights of passed criteria / all weights x 100; `pass` when every must-have passed and
score >= pass_score. `error` is decided elsewhere: it means the sandbox failed, not the product.
"""

from __future__ import annotations

from dataclasses import replace

from poc_runner.model.types import as_number
from poc_runner.result import CriterionResult, Status, Verdict
from poc_runner.units import parse_duration


def score(criteria: list[CriterionResult]) -> float:
    total = sum(c.weight for c in criteria)
    if total == 0:
        return 100.0 if all(c.passed for c in criteria) else 0.0
    return round(sum(c.weight for c in criteria if c.passed) / total * 100, 2)


def verdict(criteria: list[CriterionResult], pass_score: float) -> Verdict:
    musts_passed = all(c.passed for c in criteria if c.must)
    return Verdict.PASS if musts_passed and score(criteria) >= pass_score else Verdict.FAIL


def settled(criteria: list[CriterionResult], sandbox_failed: bool) -> list[CriterionResult]:
    """The criteria with their final status: in a run whose sandbox failed (verdict `error`),
    a criterion not met was not judged, since the product never had a fair chance."""
    if not sandbox_failed:
        return criteria
    return [c if c.passed else replace(c, status=Status.NOT_JUDGED) for c in criteria]


def improvement(baseline: object, measured: object, op: str, is_duration: bool) -> float | None:
    """How many times better than the current solution, in the criterion's own direction:
    for `<`/`<=` smaller is better (baseline / measured), otherwise larger (measured / baseline)."""
    try:
        before = parse_duration(baseline) if is_duration else as_number(baseline)
        after = as_number(measured)
    except ValueError:
        return None
    if before is None or after is None or before <= 0 or after <= 0:
        return None
    factor = before / after if op in ("<", "<=") else after / before
    return round(factor, 2)
