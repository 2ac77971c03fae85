"""The gap list (spec, "Gap list"): every criterion not met or close, as the list a sales team
works from after the PoC, each with its stakeholders and a severity:

- deal-breaker: a must-have not met (close or not: either fails the verdict);
- challenge: a close criterion, or one not met whose weight is above the median weight;
- nice-to-have: the rest.

Deal-breakers come first, then challenges, then the rest, each in the file's order. Criteria not
judged (the sandbox failed) are not gaps: nothing was learned about the product.

`poc report RUN_DIR --format gaps` writes it as CSV, `--format gaps-json` as JSON; report.html
and report.md carry it as a section. Rendered from result.json alone.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import asdict, dataclass
from typing import Any

from poc_runner.model.types import as_number
from poc_runner.report.common import State, clean, state
from poc_runner.report.figures import figure, measured_text, parse_bound
from poc_runner.result import CriterionResult, RunResult

SEVERITIES = ("deal-breaker", "challenge", "nice-to-have")
COLUMNS = (
    "id",
    "title",
    "stakeholders",
    "severity",
    "status",
    "measured",
    "expected",
    "unit",
    "shortfall",
    "evidence",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula
_UNIT_OF = {"duration": "s", "http": "ms", "csv": "rows"}


@dataclass
class Gap:
    id: str
    title: str | None
    stakeholders: list[str]
    severity: str
    status: str  # close or not_met
    measured: Any
    expected: Any
    unit: str | None
    shortfall: float | None  # how far from expected, in the unit, where both are numbers
    evidence: str
    criterion: CriterionResult

    def record(self) -> dict[str, Any]:
        body = asdict(self)
        del body["criterion"]
        return body


def gaps(result: RunResult) -> list[Gap]:
    """The run's gaps, deal-breakers first."""
    weights = [criterion.weight for criterion in result.criteria]
    median = statistics.median(weights) if weights else 0.0
    found = [
        _gap(criterion, judged, median)
        for criterion in result.criteria
        if (judged := state(result, criterion)) in (State.CLOSE, State.NOT_MET)
    ]
    return sorted(found, key=lambda gap: SEVERITIES.index(gap.severity))


def severity(criterion: CriterionResult, judged: State, median: float) -> str:
    if criterion.must:
        return "deal-breaker"
    if judged is State.CLOSE or criterion.weight > median:
        return "challenge"
    return "nice-to-have"


def shortfall(criterion: CriterionResult) -> float | None:
    """How far the measured figure is from what was expected, in the criterion's unit: the
    distance to the bound it missed (0 when it meets it); None without two numbers to compare,
    or for `!=`, which has no distance."""
    measured = figure(criterion)
    expected = criterion.expected
    if isinstance(expected, dict):  # an http check's conditions: its latency's
        expected = expected.get("latency_ms")
    parsed = parse_bound(expected) if isinstance(expected, str) else None
    if measured is None or parsed is None:
        return None
    op, operands = parsed
    bounds = [as_number(operand) for operand in operands]
    if any(bound is None for bound in bounds) or op in ("!=", "contains", "matches"):
        return None
    numbers = [float(bound) for bound in bounds if bound is not None]
    if op in (">=", ">"):
        distance = numbers[0] - measured
    elif op in ("<=", "<"):
        distance = measured - numbers[0]
    elif op == "==":
        distance = abs(measured - numbers[0])
    else:  # between
        distance = max(numbers[0] - measured, measured - numbers[1])
    return round(max(distance, 0.0), 10)


def _gap(criterion: CriterionResult, judged: State, median: float) -> Gap:
    return Gap(
        id=criterion.id,
        title=criterion.title,
        stakeholders=list(criterion.stakeholders),
        severity=severity(criterion, judged, median),
        status="close" if judged is State.CLOSE else "not_met",
        measured=criterion.measured,
        expected=criterion.expected,
        unit=criterion.unit or _UNIT_OF.get(criterion.check),
        shortfall=shortfall(criterion),
        evidence=criterion.evidence,
        criterion=criterion,
    )


def render_gaps_csv(result: RunResult) -> str:
    """One row per gap, with a header row; a cell a spreadsheet would take for a formula is
    quoted as text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for gap in gaps(result):
        record = gap.record()
        record["stakeholders"] = "; ".join(gap.stakeholders)
        record["measured"] = _plain(gap.measured, gap)
        record["expected"] = _plain(gap.expected, gap)
        writer.writerow([_cell(record[column]) for column in COLUMNS])
    return out.getvalue()


def render_gaps_json(result: RunResult) -> str:
    """The run, and its gaps as result.json records their values."""
    body = {
        "scenario": result.scenario,
        "run_id": result.run_id,
        "verdict": str(result.verdict),
        "score": result.score,
        "gaps": [gap.record() for gap in gaps(result)],
    }
    return json.dumps(_masked(body), indent=2, ensure_ascii=False) + "\n"


def _masked(value: Any) -> Any:
    """Every text masked before JSON escapes it (an escape could hide a secret from the mask)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {_masked(key): _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _plain(value: Any, gap: Gap) -> Any:
    """A value for a spreadsheet: a number as it is, anything else as its words."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return measured_text(gap.criterion) if value is gap.measured else json.dumps(value)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = clean(value)
        return "'" + text if text.startswith(_FORMULA) else text
    return value


__all__ = ["COLUMNS", "SEVERITIES", "Gap", "gaps", "render_gaps_csv", "render_gaps_json"]
