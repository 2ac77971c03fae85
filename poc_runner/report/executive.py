"""The executive summary: one paragraph at the top of report.html and report.md, for the
economic buyer, who reads no further: why the verdict is what it is, and the few figures that
matter to them, each with its unit and today's figure.

A failing verdict leads with what failed: the criteria not met, must-haves first, each with
what was measured against what was needed (or why nothing was measured), then the count and
the score, then what was met. A buyer who reads one line of a fail reads what fell short.

Which figures of what was met: the criteria marked `headline: true`. A scenario that marks
none gets its must-haves and the criteria compared with today (a baseline), at most four, in
file order.
"""

from __future__ import annotations

from poc_runner.report.common import State, shorten, state, summary_line
from poc_runner.report.figures import baseline_text, expected_text, factor_words, measured_text
from poc_runner.result import CriterionResult, RunResult, Verdict

FALLBACK_FIGURES = 4
FAILURES_NAMED = 6  # of a fail's criteria not met; more are counted, and listed in the report
REASON = 200  # characters of why a criterion was not measured


def headline_criteria(result: RunResult) -> list[CriterionResult]:
    """The criteria whose figures the summary gives."""
    marked = [c for c in result.criteria if c.headline]
    if marked:
        return marked
    telling = [c for c in result.criteria if c.must or c.baseline is not None]
    return telling[:FALLBACK_FIGURES]


def not_met_first(result: RunResult) -> list[CriterionResult]:
    """A fail's criteria not met: the must-haves, then the others, then those close (not met
    either, but within their `near`), each in file order."""
    missed = [c for c in result.criteria if state(result, c) in (State.NOT_MET, State.CLOSE)]
    return sorted(missed, key=lambda c: (not c.must, state(result, c) is State.CLOSE))


def executive_summary(result: RunResult) -> str:
    """The paragraph, as plain text (each format escapes it its own way)."""
    if result.verdict is not Verdict.FAIL:
        figures = [_figure(result, criterion) for criterion in headline_criteria(result)]
        return " ".join([summary_line(result), *figures])
    missed = not_met_first(result)
    named = [_shortfall(result, criterion) for criterion in missed[:FAILURES_NAMED]]
    if len(missed) > FAILURES_NAMED:
        named.append(f"And {len(missed) - FAILURES_NAMED} more not met (below).")
    met = [_figure(result, c) for c in headline_criteria(result) if c.passed]
    return " ".join(["Not met:", *named, summary_line(result), *(["Met:", *met] if met else [])])


def _shortfall(result: RunResult, criterion: CriterionResult) -> str:
    """A criterion not met: what was measured against what was needed, or why nothing was."""
    name = (criterion.title or criterion.id) + (" (must-have)" if criterion.must else "")
    expected = expected_text(criterion)
    if criterion.measured is None:
        why = shorten(" ".join(criterion.evidence.split()), REASON) or "no evidence"
        return f"{name}: not measured ({why}), where {expected} was needed."
    today = baseline_text(criterion)
    then = f"; {today} today" if today else ""
    close = "close but not met, " if state(result, criterion) is State.CLOSE else ""
    return f"{name}: {close}{measured_text(criterion)} where {expected} was needed{then}."


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
