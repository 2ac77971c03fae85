"""`poc doctor`: is this machine ready to run scenarios, and if not, what is missing. The engine
says what it needs itself (backends/docker/doctor.py); the state folder is poc-runner's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from poc_runner import settings

Status = Literal["ok", "warn", "missing"]
ENGINE = "Docker engine"  # the finding that says whether an engine answers


@dataclass
class Finding:
    status: Status
    what: str
    detail: str


def diagnose() -> list[Finding]:
    from poc_runner.backends.docker.doctor import diagnose as engine_findings

    findings = engine_findings()
    state = f"{settings.state_dir()} (the run history, the data hash index)"
    if not healthy(findings):
        return findings
    return [*findings, Finding("ok", "state folder", state)]


def healthy(findings: list[Finding]) -> bool:
    return not any(f.status == "missing" and f.what == ENGINE for f in findings)


__all__ = ["Finding", "diagnose", "healthy"]
