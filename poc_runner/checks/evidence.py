"""What checks read (the run's evidence) and what they return (a judgement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poc_runner.backend import SandboxAccess  # what checks see of a sandbox, and all they get

if TYPE_CHECKING:
    from poc_runner.result import RowSample
    from poc_runner.steps import StepResult


EXCERPT = 200


@dataclass
class Evidence:
    steps: dict[str, StepResult]
    run_folder: Path
    scenario_folder: Path
    sandbox: SandboxAccess | None = None
    data_items: dict[str, str] = field(default_factory=dict)  # name -> path in the scenario folder

    def step(self, name: str) -> StepResult | None:
        """The step's result, or None when it never ran (an earlier step failed)."""
        result = self.steps.get(name)
        return result if result is not None and result.ran else None


@dataclass
class Judgement:
    passed: bool
    measured: Any
    expected: Any
    evidence: str
    rows: RowSample | None = None  # data and schema checks: the first rows that fail


def missing(reason: str, expected: Any = None) -> Judgement:
    return Judgement(False, None, expected, reason)


def never_ran(step: str, expected: Any = None) -> Judgement:
    return missing(f"step {step!r} never ran, so there is nothing to judge", expected)


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
