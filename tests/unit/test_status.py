"""A criterion's status (spec, "acceptance" `near`, and result.json's `status`): met, close
(not met, but within `near`: no points, not met for the verdict), not met, or not judged (the
sandbox failed)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from poc_runner.checks import judge_criteria
from poc_runner.checks.evidence import Evidence
from poc_runner.model.scenario import Criterion
from poc_runner.result import CriterionResult, RunResult, Status
from poc_runner.scoring import score, settled, verdict
from poc_runner.steps import StepResult

RATE = "/out/rate.json"


def judged(
    tmp_path: Path, criterion: dict[str, Any], rate: float = 99.3, took: float = 30.0
) -> CriterionResult:
    target = tmp_path / "run" / "artifacts" / RATE.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"rate": rate}))
    step = StepResult(
        "match", "app", exit_code=0, duration_s=took, ran=True, artifacts={RATE: True}
    )
    scenario = SimpleNamespace(
        acceptance=SimpleNamespace(criteria=[Criterion.model_validate({"id": "c", **criterion})])
    )
    evidence = Evidence({"match": step}, tmp_path / "run", tmp_path)
    return judge_criteria(scenario, evidence)[0]  # type: ignore[arg-type]


RATE_CHECK = {"type": "json", "artifact": RATE, "path": "$.rate", "op": ">=", "value": 99.5}


class TestNear:
    def test_not_met_within_near_is_close(self, tmp_path: Path) -> None:
        result = judged(
            tmp_path, {"unit": "%", "near": {"op": ">=", "value": 99}, "check": RATE_CHECK}
        )
        assert (result.passed, result.status, result.near) == (False, Status.CLOSE, ">= 99")

    def test_not_met_beyond_near_is_not_met(self, tmp_path: Path) -> None:
        result = judged(tmp_path, {"near": {"op": ">=", "value": 99}, "check": RATE_CHECK}, rate=40)
        assert result.status is Status.NOT_MET

    def test_met_is_met_whatever_near_says(self, tmp_path: Path) -> None:
        result = judged(
            tmp_path, {"near": {"op": ">=", "value": 99}, "check": RATE_CHECK}, rate=99.9
        )
        assert (result.passed, result.status) == (True, Status.MET)

    def test_without_near_not_met_is_not_met(self, tmp_path: Path) -> None:
        assert judged(tmp_path, {"check": RATE_CHECK}).status is Status.NOT_MET

    def test_a_duration_is_close_within_a_duration(self, tmp_path: Path) -> None:
        check = {"type": "duration", "step": "match", "op": "<", "value": "1m"}
        result = judged(tmp_path, {"near": {"op": "<", "value": "2m"}, "check": check}, took=70)
        assert (result.status, result.near) == (Status.CLOSE, "< 120")

    def test_nothing_measured_is_never_close(self, tmp_path: Path) -> None:
        check = {**RATE_CHECK, "path": "$.missing"}
        result = judged(tmp_path, {"near": {"op": ">=", "value": 0}, "check": check})
        assert result.status is Status.NOT_MET

    def test_a_close_criterion_earns_no_points_and_fails_a_must(self, tmp_path: Path) -> None:
        close = judged(
            tmp_path, {"must": True, "near": {"op": ">=", "value": 99}, "check": RATE_CHECK}
        )
        assert close.status is Status.CLOSE
        assert score([close]) == 0
        assert verdict([close], 0) == "fail"

    @pytest.mark.parametrize(
        "check",
        [
            {"type": "exit_code", "step": "match"},
            {"type": "isolation"},
            {"type": "schema", "data": "x", "forbid": ["ssn"]},
        ],
    )
    def test_near_needs_a_figure(self, check: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match="no figure to be close on"):
            Criterion.model_validate({"id": "c", "near": {"op": ">=", "value": 1}, "check": check})

    def test_near_compares_numbers_with_numbers(self) -> None:
        with pytest.raises(ValueError, match="is not a number"):
            Criterion.model_validate(
                {"id": "c", "near": {"op": ">=", "value": "2m"}, "check": RATE_CHECK}
            )


class TestSettled:
    def test_a_failed_sandbox_leaves_what_was_not_met_not_judged(self, tmp_path: Path) -> None:
        met = judged(tmp_path, {"check": RATE_CHECK}, rate=100)
        close = judged(tmp_path, {"near": {"op": ">=", "value": 99}, "check": RATE_CHECK})
        statuses = [c.status for c in settled([met, close], sandbox_failed=True)]
        assert statuses == [Status.MET, Status.NOT_JUDGED]
        assert settled([close], sandbox_failed=False)[0].status is Status.CLOSE


class TestResultFile:
    def test_status_is_written_and_read_back(self, tmp_path: Path) -> None:
        from poc_runner.result import load_result

        close = judged(tmp_path, {"near": {"op": ">=", "value": 99}, "check": RATE_CHECK})
        RunResult("s", "r", "t", criteria=[close]).write(tmp_path)
        assert (
            json.loads((tmp_path / "result.json").read_text())["criteria"][0]["status"] == "close"
        )
        assert load_result(tmp_path).criteria[0].status is Status.CLOSE

    def test_a_result_written_before_status_reads_it_from_passed(self, tmp_path: Path) -> None:
        from poc_runner.result import load_result

        RunResult("s", "r", "t", criteria=[judged(tmp_path, {"check": RATE_CHECK}, rate=1)]).write(
            tmp_path
        )
        body = json.loads((tmp_path / "result.json").read_text())
        del body["criteria"][0]["status"]
        (tmp_path / "result.json").write_text(json.dumps(body))
        assert load_result(tmp_path).criteria[0].status is Status.NOT_MET
