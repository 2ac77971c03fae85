"""What a run reports as it happens: one record for every consumer.

The live display in a terminal, the timestamped lines in CI and a Python caller's `on_event`
(the public API, docs/python-api.md) all receive the same `Event`s: a service building,
starting, healthy; a step running and how it ended; the sandbox coming up and going; the
result. One callback type, `OnEvent`, carries them from the pipeline's stages to whoever
listens, so no stage knows who is watching.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Event:
    """One thing a run did: `subject` is what it concerns ("service db", "step detect",
    "sandbox", "result"), `status` what happened to it in words ("building", "healthy",
    "running", "passed in 1.2 s"). `active` marks work under way (a display shows a clock)."""

    scenario: str
    subject: str
    status: str
    active: bool = False
    at: float = field(default_factory=time.time)  # seconds since the epoch


OnEvent = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """The listener of a run nobody watches."""


__all__ = ["Event", "OnEvent", "ignore"]
