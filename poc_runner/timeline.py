"""The run as a timeline: phases, each service's start-up, each step (the report draws it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from poc_runner.result import Incident, TimelineEntry
from poc_runner.steps import StepResult


def build_timeline(
    origin: float,
    phases: Mapping[str, tuple[float, float]],
    services: Mapping[str, tuple[float, float]],
    steps: list[StepResult],
    incidents: Sequence[Incident] = (),
) -> list[TimelineEntry]:
    """Entries in seconds since `origin` (a time.monotonic() reading), in order of start;
    an incident (a service that stopped) is a moment, already timed from the start."""
    entries = [
        TimelineEntry("phase", name, _since(origin, start), _since(origin, end), "done")
        for name, (start, end) in phases.items()
    ]
    entries += [
        TimelineEntry("service", name, _since(origin, start), _since(origin, ready), "ready")
        for name, (start, ready) in services.items()
    ]
    entries += [
        TimelineEntry(
            "step",
            step.name,
            _since(origin, step.started),
            _since(origin, step.started + step.duration_s),
            _status(step),
        )
        for step in steps
        if step.ran
    ]
    entries += [TimelineEntry("service", i.service, i.at_s, i.at_s, i.status) for i in incidents]
    return sorted(entries, key=lambda entry: (entry.start_s, entry.kind != "phase"))


def _since(origin: float, moment: float) -> float:
    return round(max(moment - origin, 0.0), 3)


def _status(step: StepResult) -> str:
    return step.outcome.words(step.exit_code)
