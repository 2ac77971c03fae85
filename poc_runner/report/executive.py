"""The executive summary: one paragraph at the top of report.html and report.md, for the
economic buyer, who reads no further: why the verdict is what it is, and the few figures that
matter to them, each with its unit and today's figure.

Which figures: the criteria marked `headline: true`. A scenario that marks none gets its
must-haves and the criteria compared with today (a baseline), at most four, in file order.
"""

from __future__ import annotations

from poc_runner.report.common import State, state, summary_line
from poc_runner.report.figures import baseline_text, expected_text, factor_words, measured_text
from poc_runner.result import CriterionResult, RunResult

FALLBACK_FIGURES = 4


def headline_criteria(result: RunResult) -> list[CriterionResult]:
    """The criteria whose figures the summary gives."""
    marked = [c for c in result.criteria if c.headline]
    if marked:
        return marked
    telling = [c for c in result.criteria if c.must or c.baseline is not None]
    return telling[:FALLBACK_FIGURES]


def executive_summary(result: RunResult) -> str:
    """The paragraph, as plain text (each format escapes it its own way)."""
    figures = [_figure(result, criterion) for criterion in headline_criteria(result)]
    return " ".join([summary_line(result), *figures])


def _figure(result: RunResult, criterion: CriterionResult) -> str:
    name = criterion.title or criterion.id
    today = baseline_text(criterion)
    judged = state(result, criterion)
    if judged is State.NOT_JUDGED:
        return f"{name}: not judged."
    measured, expected = measured_text(criterion), expected_text(criterion)
    if judged in (State.NOT_MET, State.CLOSE):
        then = f"; {today} today" if today else ""
        how = "close but not met" if judged is State.CLOSE else "not met"
        return f"{name}: {how}, {measured} where {expected} was needed{then}."
    if today is None:
        needed = "" if measured == expected else f" (needed {expected})"
        return f"{name}: {measured}{needed}."
    words = factor_words(criterion)
    return f"{name}: {measured}, against {today} today" + (f" ({words})." if words else ".")
