"""Score, verdict and improvement, as the spec defines them (spec, "acceptance")."""

from __future__ import annotations

from pathlib import Path

import pytest

from poc_runner.checks import Evidence, judge_criteria
from poc_runner.model import Scenario
from poc_runner.result import CriterionResult
from poc_runner.scoring import improvement, score, verdict
from poc_runner.steps import StepResult


def criterion(passed: bool, weight: float = 1.0, must: bool = False) -> CriterionResult:
    return CriterionResult(
        id="c",
        title=None,
        passed=passed,
        must=must,
        weight=weight,
        measured=None,
        expected=None,
        evidence="",
        stakeholders=[],
        check="exit_code",
    )


class TestScore:
    def test_every_criterion_passed(self) -> None:
        assert score([criterion(True), criterion(True, 3)]) == 100.0

    def test_none_passed(self) -> None:
        assert score([criterion(False), criterion(False, 3)]) == 0.0

    def test_weights_count_not_criteria(self) -> None:
        assert score([criterion(True, 3), criterion(False, 1)]) == 75.0
        assert score([criterion(False, 3), criterion(True, 1)]) == 25.0

    def test_the_spec_example(self) -> None:
        # recall weight 3 (passed), eight more criteria of weight 1, two of them failed
        criteria = [criterion(True, 3)] + [criterion(i >= 2) for i in range(8)]
        assert score(criteria) == round(9 / 11 * 100, 2) == 81.82

    def test_rounded_to_two_decimals(self) -> None:
        assert score([criterion(True), criterion(True), criterion(False)]) == 66.67

    def test_fractional_weights(self) -> None:
        assert score([criterion(True, 0.1), criterion(True, 0.2), criterion(False, 0.7)]) == 30.0

    def test_zero_weight_criteria_do_not_count(self) -> None:
        assert score([criterion(True, 1), criterion(False, 0)]) == 100.0
        assert score([criterion(False, 1), criterion(True, 0)]) == 0.0

    def test_zero_total_weight_all_passed_is_full_marks(self) -> None:
        assert score([criterion(True, 0), criterion(True, 0)]) == 100.0

    def test_zero_total_weight_one_failed_is_zero(self) -> None:
        assert score([criterion(True, 0), criterion(False, 0)]) == 0.0

    def test_no_criteria(self) -> None:
        assert score([]) == 100.0

    def test_a_float(self) -> None:
        assert isinstance(score([criterion(True, 2)]), float)


class TestVerdict:
    def test_all_passed(self) -> None:
        assert verdict([criterion(True), criterion(True, must=True)], 100) == "pass"

    def test_score_below_pass_score_fails(self) -> None:
        assert verdict([criterion(True, 3), criterion(False, 2)], 80) == "fail"

    def test_score_equal_to_pass_score_passes(self) -> None:
        assert verdict([criterion(True, 3), criterion(False, 1)], 75) == "pass"
        assert verdict([criterion(True, 3), criterion(False, 1)], 75.01) == "fail"

    def test_a_failed_must_fails_whatever_the_score(self) -> None:
        criteria = [criterion(False, 1, must=True)] + [criterion(True, 100) for _ in range(5)]
        assert score(criteria) > 99
        assert verdict(criteria, 0) == "fail"

    def test_a_failed_must_with_zero_weight_still_fails(self) -> None:
        assert verdict([criterion(True, 1), criterion(False, 0, must=True)], 50) == "fail"

    def test_a_failed_optional_within_the_pass_score_passes(self) -> None:
        criteria = [criterion(True, 3, must=True), criterion(False, 1)]
        assert verdict(criteria, 75) == "pass"

    def test_pass_score_zero_with_nothing_passed_but_no_musts(self) -> None:
        assert verdict([criterion(False)], 0) == "pass"

    def test_default_pass_score_100_needs_everything(self) -> None:
        assert verdict([criterion(True, 99), criterion(False, 1)], 100) == "fail"

    def test_verdict_is_never_error(self) -> None:
        # `error` means the sandbox failed, which scoring never decides
        for criteria in ([], [criterion(False, must=True)], [criterion(True)]):
            assert verdict(criteria, 100) in ("pass", "fail")


class TestImprovement:
    @pytest.mark.parametrize(
        ("baseline", "measured", "op", "factor"),
        [
            (0.6, 0.97, ">=", 1.62),  # larger is better: measured / baseline
            (0.6, 0.97, ">", 1.62),
            ("0.6", "0.97", ">=", 1.62),  # numbers may come as text (${var})
            (100, 50, "==", 0.5),
            (10, 30, "between", 3.0),
            (600, 120, "<", 5.0),  # smaller is better: baseline / measured
            (600, 120, "<=", 5.0),
            (120, 600, "<", 0.2),  # worse than today: a factor below 1
            (3, 3, ">=", 1.0),
        ],
    )
    def test_direction_follows_the_operator(
        self, baseline: object, measured: object, op: str, factor: float
    ) -> None:
        assert improvement(baseline, measured, op, is_duration=False) == factor

    @pytest.mark.parametrize(
        ("baseline", "measured", "factor"),
        [
            ("6h", 120.0, 180.0),
            ("1h30m", 60.0, 90.0),
            ("500ms", 0.25, 2.0),
            (21600, 120.0, 180.0),  # seconds, without a unit
            ("6h", 7.3, 2958.9),
        ],
    )
    def test_a_duration_baseline(self, baseline: object, measured: float, factor: float) -> None:
        assert improvement(baseline, measured, "<", is_duration=True) == factor

    def test_rounded_to_two_decimals(self) -> None:
        assert improvement(3, 1, "<", is_duration=False) == 3.0
        assert improvement(1, 3, "<", is_duration=False) == 0.33

    @pytest.mark.parametrize(
        ("baseline", "measured", "is_duration"),
        [
            ("about six hours", 120, True),  # not a duration
            ("lots", 1, False),
            (0.6, "n/a", False),
            (0.6, None, False),
            (None, 0.9, False),
            (True, 1, False),  # booleans are not numbers
            (0.6, True, False),
            (0, 0.9, False),  # zero: no factor to speak of
            (0.6, 0, False),
            ("0s", 10, True),
            (-1, 2, False),
            (0.6, [0.9], False),
        ],
    )
    def test_none_when_there_is_no_meaningful_factor(
        self, baseline: object, measured: object, is_duration: bool
    ) -> None:
        assert improvement(baseline, measured, ">=", is_duration) is None
        assert improvement(baseline, measured, "<", is_duration) is None


class TestImprovementOnlyWhenMet:
    """A factor on a criterion that was not met would praise a failure (judge_criteria)."""

    @staticmethod
    def judged(bound: str, took: float, *, timed_out: bool = False) -> CriterionResult:
        scenario = Scenario.model_validate(
            {
                "apiVersion": "poc-runner/v1",
                "name": "fast",
                "acceptance": {
                    "criteria": [
                        {
                            "id": "fast",
                            "unit": "s",
                            "headline": True,
                            "baseline": {"value": "4h", "max_factor": 1000},
                            "check": {"type": "duration", "step": "go", "op": "<", "value": bound},
                        }
                    ]
                },
            }
        )
        step = StepResult("go", "app", 0, duration_s=took, timed_out=timed_out, ran=True)
        (criterion,) = judge_criteria(scenario, Evidence({"go": step}, Path("run"), Path()))
        return criterion

    def test_a_met_criterion_carries_its_factor_and_how_it_reads(self) -> None:
        met = self.judged("1m", 0.27)
        assert met.passed and met.improvement == round(4 * 3600 / 0.27, 2)
        assert (met.unit, met.headline, met.max_factor) == ("s", True, 1000)

    def test_a_failed_criterion_has_no_improvement(self) -> None:
        missed = self.judged("0.1s", 0.27)
        assert not missed.passed and missed.improvement is None
        assert missed.baseline == "4h"  # today's figure is still shown

    def test_a_timed_out_step_has_no_improvement(self) -> None:
        timed_out = self.judged("1m", 0.27, timed_out=True)
        assert not timed_out.passed and timed_out.improvement is None
