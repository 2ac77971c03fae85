"""What checks read (the run's evidence) and what they return (a judgement)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from poc_runner.sandbox.lifecycle import Sandbox
    from poc_runner.steps import StepResult

EXCERPT = 200


@dataclass
class Evidence:
    steps: dict[str, StepResult]
    run_folder: Path
    scenario_folder: Path
    sandbox: Sandbox | None = None

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


def missing(reason: str, expected: Any = None) -> Judgement:
    return Judgement(False, None, expected, reason)


def never_ran(step: str, expected: Any = None) -> Judgement:
    return missing(f"step {step!r} never ran, so there is nothing to judge", expected)


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
