"""Every example scenario in scenarios/ runs offline and ends with the verdict its README
promises, with its inputs on record: CI proves the examples a new user tries first actually
work. Each says the unit of every figure that has one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from poc_runner.model.checks import Check
from poc_runner.model.types import as_number
from poc_runner.pipeline import load
from poc_runner.result import RunResult

EXAMPLES = Path(__file__).parents[2] / "scenarios"
EXPECTED = {  # scenario -> (verdict, score, criteria expected to fail)
    "bank-reconciliation": ("pass", 88.24, {"right-first-time"}),
    "invoice-dedupe": ("pass", 100.0, set()),
    "ledger-load": ("pass", 100.0, set()),
    "order-status-api": ("pass", 90.0, {"search-by-email"}),
    "stock-alerts": ("pass", 100.0, set()),
}
CLOSE = {"bank-reconciliation": {"right-first-time"}}  # scenario -> criteria close, not met
FILES = {  # scenario -> the files besides scenario.yaml whose sha256 the run records
    "bank-reconciliation": {"scoring/right_first_time.py"},
    "invoice-dedupe": {"data/known_duplicates.csv", "scoring/score.py"},
    "ledger-load": {"checks/closing_balances.py"},
    "order-status-api": {"data/expected_status.csv", "probe/lookup_all.py"},
    "stock-alerts": {"deploy/compose.yaml"},
}


def test_every_example_is_covered() -> None:
    assert {path.parent.name for path in EXAMPLES.glob("*/scenario.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_ends_with_its_expected_verdict(name: str, run: Callable[..., RunResult]) -> None:
    verdict, score, failing = EXPECTED[name]
    result = run(EXAMPLES / name / "scenario.yaml")
    assert result.error is None, result.error
    assert {c.id for c in result.criteria if not c.passed} == failing
    assert {c.id for c in result.criteria if c.status == "close"} == CLOSE.get(name, set())
    assert (result.verdict, result.score) == (verdict, score)
    assert set(result.inputs.files) == {"scenario.yaml"} | FILES[name]
    assert result.inputs.vars == load(EXAMPLES / name / "scenario.yaml", {}).vars


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_figure_of_an_example_says_its_unit(name: str) -> None:
    scenario = load(EXAMPLES / name / "scenario.yaml", {}, secrets=False)
    criteria = scenario.acceptance.criteria
    assert [c.id for c in criteria if _counts(c.check) and c.unit is None] == []
    assert any(c.headline for c in criteria)


def _counts(check: Check) -> bool:
    """Whether the check's figure is a quantity: a duration, rows that differ, or a number a
    json, metric or sql check compares (a list of names or a word has no unit)."""
    if check.type in ("duration", "csv"):
        return True
    if check.type == "data":  # a count reads in rows unless named; the rest has its unit
        return check.metric in ("row_count", "duplicate_count", "invalid_count", "missing_count")
    value = getattr(check, "value", None)
    return check.type in ("json", "metric", "sql") and as_number(value) is not None
