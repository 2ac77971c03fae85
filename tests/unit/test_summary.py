"""The terminal summary reads as text: every check type's measured and expected values, as
the real checks record them, in words; a sandbox error judges no criterion."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from poc_runner.checks import Evidence, judge
from poc_runner.model.checks import Check
from poc_runner.result import CriterionResult, RunResult, Verdict
from poc_runner.steps import StepResult
from poc_runner.summary import summarize
from tests.unit.sample_results import errored, failing, passing
from tests.unit.test_sandbox_checks import FakeSandbox, found, outcome, rows

# What a Python (or JSON) structure leaves in text: braces, brackets, quoted keys, reprs.
REPR = re.compile(r"[{}\[\]]|'\w+':|\bNone\b|\bTrue\b|\bFalse\b")
CHECKS: dict[str, dict[str, Any]] = {
    "exit_code": {"type": "exit_code", "step": "load"},
    "output": {"type": "output", "step": "load", "contains": "rejected 12", "not_contains": "x"},
    "json": {"type": "json", "artifact": "/out/m.json", "path": "$.recall", "op": ">=", "value": "0.95"},
    "file": {"type": "file", "artifact": "/out/m.json", "size": {"op": ">", "value": 0}},
    "duration": {"type": "duration", "step": "load", "op": "between", "value": ["1s", "2m"]},
    "metric": {"type": "metric", "step": "load", "pattern": "saved ([0-9.]+)", "op": "<=",
               "value": 5000},
    "csv": {"type": "csv", "artifact": "/out/a.csv", "expected": "expected.csv", "key": "id"},
    "sql": {"type": "sql", "service": "db", "query": "select 1", "op": "==", "value": 42},
    "http": {"type": "http", "url": "http://api:8080/orders/1", "status": 200,
             "json": {"path": "$.status", "op": "==", "value": "shipped"},
             "latency_ms": {"op": "<", "value": 200}},
    "command": {"type": "command", "service": "app", "run": "check.sh"},
}  # fmt: skip
UNITS = {"json": "ratio", "metric": "EUR", "csv": "rows", "sql": "rows"}
METRICS = json.dumps({"recall": 0.9734})


def evidence(tmp_path: Path) -> Evidence:
    """A run as each check finds it: a step's output, two artifacts, a sandbox answering."""
    artifacts = tmp_path / "run" / "artifacts" / "out"
    artifacts.mkdir(parents=True)
    (artifacts / "m.json").write_text(METRICS)
    (artifacts / "a.csv").write_text("id,v\n" + "".join(f"{i},{i}\n" for i in range(20)))
    expected = "".join(f"{i},{i if i < 2 else -1}\n" for i in range(20))  # 18 rows differ
    (tmp_path / "expected.csv").write_text(f"id,v\n{expected}")
    step = StepResult(
        "load", "app", 0, duration_s=7.25, ran=True, stdout="loaded\nsaved 5686.35\n",
        artifacts={"/out/a.csv": True, "/out/m.json": True},
    )  # fmt: skip
    probe = {"status": 200, "latency_ms": 17.2, "body_excerpt": '{"status": "shipped"}',
             "truncated": False, "error": None, "timed_out": False}  # fmt: skip
    sandbox = FakeSandbox(
        [found("psql"), outcome(0, rows((42,))), outcome(0, "all balances match\n")],
        lambda *_: outcome(0, json.dumps(probe) + "\n"),
        db={}, api={}, app={},
    )  # fmt: skip
    return Evidence({"load": step}, tmp_path / "run", tmp_path, sandbox)  # type: ignore[arg-type]


@pytest.fixture
def every_check(tmp_path: Path) -> RunResult:
    """One criterion per check type, each judged by the real check on `evidence`."""
    seen = evidence(tmp_path)
    criteria = []
    for kind, fields in CHECKS.items():
        judged = judge(TypeAdapter(Check).validate_python(fields), seen)
        criteria.append(
            CriterionResult(
                id=kind,
                title=None,
                passed=judged.passed,
                must=False,
                weight=1.0,
                measured=judged.measured,
                expected=judged.expected,
                evidence=judged.evidence,
                stakeholders=["Analyst"],
                check=kind,
                unit=UNITS.get(kind),
            )
        )
    return RunResult(
        "every-check", "r1", "2026-11-23T00:51:03Z", verdict=Verdict.FAIL, criteria=criteria
    )


def lines_of(result: RunResult) -> dict[str, str]:
    """The summary's criterion lines, by criterion id."""
    found_lines = {}
    for line in summarize(result, "runs/x").splitlines():
        match = re.match(r"\s+(PASS|FAIL|not judged)  (\S+): (.*)", line)
        if match:
            found_lines[match.group(2)] = f"{match.group(1)} {match.group(3)}"
    return found_lines


def test_no_check_type_shows_a_python_structure(every_check: RunResult) -> None:
    text = summarize(every_check, "runs/x")
    assert not REPR.findall(text), text
    assert set(lines_of(every_check)) == set(CHECKS)


def test_every_check_type_labels_what_it_measured(every_check: RunResult) -> None:
    assert lines_of(every_check) == {
        "exit_code": "PASS exit code 0, expected exit code 0",
        "output": 'FAIL "loaded saved 5686.35", expected contains "rejected 12", does not contain "x"',
        "json": "PASS 97.3%, expected ≥ 95%",
        "file": f"PASS exists, {len(METRICS)} bytes, expected exists, size > 0 bytes",
        "duration": "PASS 7.25 s, expected between 1 s and 2 min",
        "metric": "FAIL 5,686.35 EUR, expected ≤ 5,000 EUR",
        "csv": "FAIL 18 differing rows, expected no differing rows",
        "sql": "PASS 42 rows, expected = 42 rows",
        "http": (
            "PASS status 200 in 17.2 ms, $.status = shi…,"
            " expected status 200, $.status = shipped, < 200 ms"
        ),
        "command": "PASS exit code 0, expected exit code 0",
    }


def test_a_sandbox_error_judges_no_criterion() -> None:
    text = summarize(errored(), "runs/x")
    assert "sandbox error: service 'db' exited with code 1 before it was healthy" in text
    assert "not judged  recall (must): 0.5, expected ≥ 0.95" in text
    assert "FAIL" not in text.replace("ERROR", "")


def test_verdict_score_and_where_the_results_are() -> None:
    result = failing()
    result.score = 70.5882
    lines = summarize(result, "runs/x").splitlines()
    assert lines[0] == "invoice-dedupe: FAIL  score 70.6 (needs 80)"
    assert lines[-2:] == ["  results: runs/x", "  report:  runs/x/report.html"]


def test_a_met_criterion_says_how_it_compares_with_today() -> None:
    text = summarize(passing(), "runs/x")
    assert "PASS  recall (must): 0.97, expected ≥ 0.95, 1.6x better than today" in text
    assert "PASS  minutes-not-hours: 0.5 s, expected < 2 min, 6 h → 0.5 s" in text
    assert "better than today" not in summarize(failing(), "runs/x").split("recall")[-1]


def test_verdict_words_come_from_the_result() -> None:
    assert summarize(passing(), "x").startswith(f"invoice-dedupe: {Verdict.PASS.word}")


def test_a_fail_leads_with_the_criteria_not_met_must_haves_first() -> None:
    result = failing()
    result.criteria = [
        CriterionResult("quick", None, True, False, 1.0, 0.5, "< 120", "", ["Clerk"], "duration"),
        CriterionResult("rate", None, False, False, 1.0, 0.993, ">= 0.995", "", ["CFO"], "json",
                        unit="ratio"),
        CriterionResult("crash", None, False, True, 1.0, None, "< 120",
                        "step 'reconcile' failed (exit 1): its duration proves nothing",
                        ["Clerk"], "duration"),
    ]  # fmt: skip
    lines = summarize(result, "runs/x").splitlines()
    start = lines.index("  Not met (must-haves first)")
    assert lines[start + 1 : start + 5] == [
        "    FAIL  crash (must): not measured (step 'reconcile' failed (exit 1): its duration"
        " proves nothing), expected < 2 min",
        "    FAIL  rate: 99.3%, expected ≥ 99.5%",
        "  Clerk",
        "    PASS  quick: 0.5 s, expected < 2 min",
    ]
    assert "CFO" not in lines  # nothing of theirs was met: named above


def test_a_list_expected_reads_as_words(tmp_path: Path) -> None:
    check = TypeAdapter(Check).validate_python(
        {
            "type": "json",
            "artifact": "/out/m.json",
            "path": "$.low",
            "op": "==",
            "value": ["A-101", "B-200"],
        }
    )
    seen = evidence(tmp_path)
    judged = judge(check, seen)
    result = RunResult("r", "r1", "t", verdict=Verdict.FAIL, criteria=[
        CriterionResult("low", None, False, True, 1.0, judged.measured, judged.expected,
                        judged.evidence, [], "json"),
    ])  # fmt: skip
    text = summarize(result, "runs/x")
    assert "expected = A-101, B-200" in text and not REPR.findall(text), text
