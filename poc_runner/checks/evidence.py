"""What checks read (the run's evidence) and what they return (a judgement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from poc_runner.backends.docker.execute import Outcome
    from poc_runner.backends.docker.netprobe import Targets
    from poc_runner.model import Scenario
    from poc_runner.result import RowSample
    from poc_runner.steps import StepResult


class SandboxAccess(Protocol):
    """What checks need of a live sandbox, and all they get: the seam another backend (a
    remote engine, a Kubernetes cluster) fills. Both ways of running a command are cut short
    at the run's `sandbox.timeout`, and raise ServiceStopped when the service is not running."""

    @property
    def scenario(self) -> Scenario: ...

    def exec(
        self,
        service: str,
        argv: list[str],
        timeout: float,
        environment: dict[str, str] | None = None,
    ) -> Outcome:
        """Run `argv` in a service's container."""
        ...

    def probe(self, argv: list[str], timeout: float) -> Outcome:
        """Run `argv` from inside the sandbox's network (not in any service)."""
        ...

    def probe_within(self, service: str, argv: list[str], timeout: float) -> Outcome:
        """Run `argv` in a helper that shares the service's network namespace: it sees the
        service's routes, addresses and resolver, without needing any tool in its image."""
        ...

    def isolation_targets(self) -> Targets:
        """Every address of the engine's host (the machine the sandbox runs on) and every
        gateway of the sandbox's network, read from their tables: nothing is sent."""
        ...


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
