"""Every example scenario in scenarios/ runs offline and ends with the verdict its README
promises: CI proves the examples a new user tries first actually work."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from poc_runner.result import RunResult

EXAMPLES = Path(__file__).parents[2] / "scenarios"
EXPECTED = {  # scenario -> (verdict, score, criteria expected to fail)
    "invoice-dedupe": ("pass", 100.0, set()),
    "ledger-load": ("pass", 100.0, set()),
    "order-status-api": ("pass", 90.0, {"search-by-email"}),
    "stock-alerts": ("pass", 100.0, set()),
}


def test_every_example_is_covered() -> None:
    assert {path.parent.name for path in EXAMPLES.glob("*/scenario.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_ends_with_its_expected_verdict(name: str, run: Callable[..., RunResult]) -> None:
    verdict, score, failing = EXPECTED[name]
    result = run(EXAMPLES / name / "scenario.yaml")
    assert result.error is None, result.error
    assert {c.id for c in result.criteria if not c.passed} == failing
    assert (result.verdict, result.score) == (verdict, score)
