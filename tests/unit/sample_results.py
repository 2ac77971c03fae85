"""Hand-built RunResults for the report and history tests: a pass, a fail, a sandbox error, and
one whose every string is hostile (markup, control characters, a secret)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from poc_runner.masking import Masker
from poc_runner.result import (
    CriterionResult,
    Job,
    RowSample,
    RunInputs,
    RunResult,
    Stakeholder,
    Status,
    StepRecord,
    TimelineEntry,
    Verdict,
)

SECRET = "s3cr3t-Vendor-Token-9f2"
HOSTILE = (
    '<script>alert("x")</script><img src="http://example.invalid/pixel.png">'
    " ![tracker](http://example.invalid/t.png) [click](javascript:alert(1))"
    " | pipe `tick` ``ticks`` ]]> &amp; \x00\x1b[31m \ud800 end"
)


def criterion(id: str, passed: bool = True, **overrides: Any) -> CriterionResult:
    fields: dict[str, Any] = {
        "id": id,
        "title": f"Title of {id}",
        "passed": passed,
        "must": False,
        "weight": 1.0,
        "measured": 0.97 if passed else 0.5,
        "expected": ">= 0.95",
        "evidence": f"evidence of {id}",
        "stakeholders": ["Controller"],
        "check": "json",
    }
    return CriterionResult(**(fields | overrides))


def passing() -> RunResult:
    return RunResult(
        scenario="invoice-dedupe",
        run_id="20261123T005103Z-aaaaaa",
        started_at="2026-11-23T00:51:03.677Z",
        finished_at="2026-11-23T00:51:05.977Z",
        verdict=Verdict.PASS,
        score=100.0,
        pass_score=80.0,
        title="Catch duplicate invoices before the payment run",
        job=Job(
            statement="When we close the month, we want duplicates caught before payment.",
            current_solution="Two AP clerks cross-check invoices in Excel, about 6 hours.",
            stakeholders=[
                Stakeholder("AP clerk", "Spend less time hunting duplicates"),
                Stakeholder("Controller", "No duplicate payment goes out"),
            ],
            prospect="Acme Manufacturing",
            industry="manufacturing",
        ),
        criteria=[
            criterion("recall", must=True, weight=3.0, baseline=0.6, improvement=1.62),
            criterion(
                "minutes-not-hours",
                measured=0.5,
                expected="< 120.0",
                check="duration",
                stakeholders=["AP clerk"],
                baseline="6h",
                improvement=43200.0,
                evidence="step 'detect' took 0.5 s",
            ),
        ],
        steps=[
            StepRecord("detect", "app", 0, 0.5, False, True, None, {"stdout": 45}, {}),
            StepRecord("score", "app", 0, 0.25, False, True, None, {"stdout": 58}, {}),
        ],
        timeline=[
            TimelineEntry("phase", "sandbox up", 0.0, 0.7, "done"),
            TimelineEntry("service", "app", 0.3, 0.7, "ready"),
            TimelineEntry("phase", "steps", 0.7, 1.5, "done"),
            TimelineEntry("step", "detect", 0.7, 1.2, "passed"),
            TimelineEntry("step", "score", 1.2, 1.45, "passed"),
            TimelineEntry("phase", "teardown", 1.5, 2.3, "done"),
        ],
        environment={
            "runner": {"version": "0.1.0", "python": "3.11.7", "platform": "Linux"},
            "engine": {"version": "20.10.24", "api_version": "1.41"},
            "network": "isolated",
            "images": {"app": "sha256:" + "ab" * 32},
            "data": {"invoices": "6f1f8415" + "0" * 56},
        },
        inputs=RunInputs(
            vars={"min_recall": "0.95", "safety_days": "7", "VENDOR_API_TOKEN": "***"},
            files={"scenario.yaml": "1a" * 32, "scoring/score.py": "2b" * 32},
        ),
    )


def failing() -> RunResult:
    result = passing()
    result.run_id = "20261124T005103Z-bbbbbb"
    result.started_at = "2026-11-24T00:51:03.677Z"
    result.finished_at = "2026-11-24T00:51:05.977Z"
    result.verdict = Verdict.FAIL
    result.score = 25.0
    result.inputs = RunInputs(  # the same scenario, run with --var safety_days=14
        vars={"min_recall": "0.95", "safety_days": "14", "VENDOR_API_TOKEN": "***"},
        files={"scenario.yaml": "1a" * 32, "scoring/score.py": "2b" * 32},
    )
    result.criteria[0] = criterion(
        "recall",
        passed=False,
        must=True,
        weight=3.0,
        baseline=0.6,
        evidence="recall was 0.5: 4 of 8 duplicates flagged",
    )
    return result


def errored() -> RunResult:
    result = failing()
    result.run_id = "20261125T005103Z-cccccc"
    result.started_at = "2026-11-25T00:51:03.677Z"
    result.finished_at = "2026-11-25T00:51:04.100Z"
    result.verdict = Verdict.ERROR
    result.error = "service 'db' exited with code 1 before it was healthy"
    return result


def priced() -> RunResult:
    """The failing run a CFO read: figures with units, a budget not met, machine time against
    a person's hours, a score with decimals."""
    result = failing()
    result.run_id = "20261126T005103Z-dddddd"
    result.score = 70.5882
    result.job.stakeholders.append(Stakeholder("CFO", "A figure to take to the board"))
    result.criteria = [
        criterion(
            "recall", measured=0.9734, unit="ratio", headline=True, must=True, weight=3.0,
            baseline=0.6, improvement=1.62, title="Catches the duplicates the auditors found",
        ),
        criterion(
            "minutes-not-hours", measured=0.27, expected="< 120", check="duration",
            stakeholders=["AP clerk"], baseline="4h", improvement=53333.33, headline=True,
            title="The check takes minutes, not a working day",
        ),
        criterion(
            "within-budget", False, measured=5686.35, expected="<= 5000", check="metric",
            unit="EUR", stakeholders=["CFO"], baseline=8000, must=True, weight=2.0,
            headline=True, title="Overpayments left in the payment run",
        ),
        criterion(
            "matches-the-audit", False, measured=18, expected=0, check="csv",
            title="The flagged list matches the auditors' list",
        ),
    ]  # fmt: skip
    return result


def gapped() -> RunResult:
    """A failing run with every kind of gap: a must-have not met, a close rate, a heavy
    criterion not met and a light one, data rows that fail, and a met rate against today."""
    result = failing()
    result.run_id = "20261127T005103Z-eeeeee"
    result.title = "Bank lines matched to open invoices"
    result.score = 40.0
    result.job.stakeholders.append(Stakeholder("Data team", "All our rows, none twice"))
    result.criteria = [
        criterion(
            "matched", measured=99.6, expected=">= 99", unit="%", baseline=92,
            improvement=1.08, remainder="unmatched", weight=3.0, headline=True,
            title="Lines matched automatically", stakeholders=["AP clerk", "Controller"],
        ),
        criterion(
            "right-first-time", False, measured=99.2, expected=">= 99.5", unit="%",
            near=">= 99", status=Status.CLOSE, weight=2.0, headline=True,
            title="Matches accepted without a correction",
        ),
        criterion(
            "every-line", False, measured=248, expected="== 250", unit="rows", check="data",
            must=True, weight=2.0, title="Every bank line is in the warehouse",
            stakeholders=["Data team"], evidence="table bank_lines (psql in service 'db'): 248 rows",
        ),
        criterion(
            "none-twice", False, measured=2, expected="== 0", unit="rows", check="data",
            weight=2.0, title="No line twice", stakeholders=["Data team"],
            evidence="table bank_lines: 2 rows repeat the line_id of an earlier row",
            failing_rows=RowSample(
                ["line_id", "amount", "reference"],
                [["BL-7", "10.00", None], ["BL-7", "10.00", ""], ["BL-9", "=cmd|' /C calc'!A0", "x"]],
                4,
            ),
        ),
        criterion(
            "references", False, measured=6.4, expected="<= 5", unit="%", check="data",
            weight=0.5, title="Remittance texts present", stakeholders=["Data team"],
            evidence="=HYPERLINK(\"http://example.invalid\")",
            failing_rows=RowSample(["reference", "line_id"], [[None, "BL-75"], ["", "BL-86"]], 16,
                                   [75, 86]),
        ),
    ]  # fmt: skip
    return result


def hostile(*, writable: bool = False) -> RunResult:
    """Every string a product could influence is hostile; the secret hides in several.
    `writable`: without the lone surrogate, which result.json (UTF-8) cannot hold."""
    evil = HOSTILE.replace("\ud800", "") if writable else HOSTILE
    result = failing()
    result.title = f"{evil} title"
    result.job.statement = f"# heading? {evil}"
    result.job.current_solution = f"1. list? {evil}"
    result.job.stakeholders.append(Stakeholder(f"<b>{evil}</b>", f"wants {evil}"))
    result.criteria.append(
        criterion(
            f"evil-{evil}",
            passed=False,
            title=f"title {evil}",
            measured={"value": evil, "token": SECRET},
            expected=f"{evil} {SECRET}",
            evidence=f"{evil}\nthe token was {SECRET}\nand a&b{SECRET}<",
            stakeholders=[f"<b>{evil}</b>"],
            failing_rows=RowSample([f"col {evil}"], [[f"{evil} {SECRET}"], [None]], 2, [1, 2]),
        )
    )
    result.steps.append(
        StepRecord(f"step {evil}", "app", 1, 0.1, False, True, f"{evil} {SECRET}", {}, {})
    )
    result.timeline.append(TimelineEntry("step", f"step {evil}", 1.45, 1.5, "failed (exit 1)"))
    result.environment["data"] = {f"d {evil}": SECRET}
    return result


_USERS_OF_SECRETS = (
    "poc_runner.masking",
    "poc_runner.result",
    "poc_runner.report",
    "poc_runner.report.common",
    "poc_runner.history",
    "poc_runner.cli",
    "poc_runner.checks.artifacts",
    "poc_runner.checks.steps",
    "poc_runner.sandbox.archive",
)


def register_secret(monkeypatch: pytest.MonkeyPatch, value: str = SECRET) -> Masker:
    """A masker knowing `value`, in place of the process's SECRETS for this test only."""
    masker = Masker()
    masker.add(value)
    for name in _USERS_OF_SECRETS:
        monkeypatch.setattr(importlib.import_module(name), "SECRETS", masker)
    return masker
