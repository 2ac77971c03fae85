"""Checks on what a step did: exit code, wall time, output (spec, "Check types")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from poc_runner.checks import judge
from poc_runner.checks.evidence import EXCERPT, Evidence
from poc_runner.checks.steps import judge_duration, judge_exit_code, judge_output
from poc_runner.model.checks import DurationCheck, ExitCodeCheck, OutputCheck
from poc_runner.steps import StepResult
from tests.unit.sample_results import SECRET, register_secret


def ran(
    exit_code: int | None = 0,
    duration_s: float = 1.5,
    *,
    timed_out: bool = False,
    stdout: str = "",
    stderr: str = "",
    secrets_seen: dict[str, set[str]] | None = None,
) -> StepResult:
    return StepResult(
        "detect",
        "app",
        exit_code=exit_code,
        duration_s=duration_s,
        timed_out=timed_out,
        ran=True,
        stdout=stdout,
        stderr=stderr,
        secrets_seen=secrets_seen or {},
    )


def never_started() -> StepResult:
    """A step after a failed one: recorded, never run."""
    return StepResult("detect", "app")


def evidence(step: StepResult | None, tmp_path: Path) -> Evidence:
    steps = {} if step is None else {step.name: step}
    return Evidence(steps, tmp_path / "run", tmp_path)


def exit_code(**fields: Any) -> ExitCodeCheck:
    return ExitCodeCheck.model_validate({"type": "exit_code", "step": "detect", **fields})


def duration(op: str, value: Any) -> DurationCheck:
    return DurationCheck.model_validate(
        {"type": "duration", "step": "detect", "op": op, "value": value}
    )


def output(**fields: Any) -> OutputCheck:
    return OutputCheck.model_validate({"type": "output", "step": "detect", **fields})


class TestExitCode:
    def test_zero_by_default(self, tmp_path: Path) -> None:
        judged = judge_exit_code(exit_code(), evidence(ran(0), tmp_path))
        assert judged.passed
        assert (judged.measured, judged.expected) == (0, 0)
        assert judged.evidence == "step 'detect' exited with 0"

    def test_non_zero_fails(self, tmp_path: Path) -> None:
        judged = judge_exit_code(exit_code(), evidence(ran(2), tmp_path))
        assert not judged.passed
        assert (judged.measured, judged.expected) == (2, 0)
        assert "exited with 2" in judged.evidence

    def test_an_expected_non_zero_code(self, tmp_path: Path) -> None:
        assert judge_exit_code(exit_code(value=3), evidence(ran(3), tmp_path)).passed
        assert not judge_exit_code(exit_code(value=3), evidence(ran(0), tmp_path)).passed

    def test_never_ran(self, tmp_path: Path) -> None:
        judged = judge_exit_code(exit_code(), evidence(never_started(), tmp_path))
        assert not judged.passed
        assert judged.measured is None
        assert judged.expected == 0
        assert "never ran" in judged.evidence

    def test_a_step_missing_from_the_evidence_never_ran(self, tmp_path: Path) -> None:
        judged = judge_exit_code(exit_code(), evidence(None, tmp_path))
        assert not judged.passed
        assert "never ran" in judged.evidence

    def test_timed_out(self, tmp_path: Path) -> None:
        step = ran(None, 120.04, timed_out=True)
        judged = judge(exit_code(), evidence(step, tmp_path))
        assert not judged.passed
        assert judged.measured is None
        assert judged.evidence == "step 'detect' timed out after 120.0 s: it has no exit code"

    def test_timed_out_fails_even_when_expecting_no_code(self, tmp_path: Path) -> None:
        step = ran(0, 5.0, timed_out=True)  # a code read after the kill must not count
        assert not judge(exit_code(), evidence(step, tmp_path)).passed


class TestDuration:
    @pytest.mark.parametrize(
        ("op", "value", "took", "passed"),
        [
            ("<", "2m", 119.9, True),
            ("<", "2m", 120.0, False),
            ("<=", "2m", 120.0, True),
            ("<", 120, 30.0, True),
            (">", "500ms", 0.4, False),
            (">=", "1s", 1.0, True),
            ("==", "1m30s", 90.0, True),
            ("!=", "1m", 60.0, False),
            ("between", ["1s", "2m"], 1.0, True),
            ("between", ["1s", "2m"], 120.0, True),
            ("between", ["1s", "2m"], 0.99, False),
            ("between", [1, "1h"], 3600.01, False),
        ],
    )
    def test_wall_time_compared_in_seconds(
        self, tmp_path: Path, op: str, value: Any, took: float, passed: bool
    ) -> None:
        judged = judge_duration(duration(op, value), evidence(ran(0, took), tmp_path))
        assert judged.passed is passed
        assert judged.measured == took

    def test_expected_is_shown_in_seconds(self, tmp_path: Path) -> None:
        judged = judge_duration(duration("<", "2m"), evidence(ran(0, 7.25), tmp_path))
        assert judged.expected == "< 120"
        assert judged.evidence == "step 'detect' took 7.25 s"
        between = judge_duration(duration("between", ["1s", "2m"]), evidence(ran(), tmp_path))
        assert between.expected == "between 1 and 120"

    def test_a_crashed_step_proves_nothing_by_its_speed(self, tmp_path: Path) -> None:
        """0.123 s, expected < 2 min, once read "PASS" on a step that exited 1."""
        judged = judge(duration("<", "2m"), evidence(ran(1, 0.123), tmp_path))
        assert not judged.passed
        assert judged.measured is None
        assert judged.evidence == "step 'detect' failed (exit 1): its duration proves nothing"

    def test_timed_out_fails_whatever_the_comparison(self, tmp_path: Path) -> None:
        step = ran(None, 30.0, timed_out=True)
        judged = judge(duration(">", "1s"), evidence(step, tmp_path))
        assert not judged.passed
        assert judged.measured is None
        assert (
            judged.evidence == "step 'detect' timed out after 30.0 s: its duration proves nothing"
        )

    def test_never_ran(self, tmp_path: Path) -> None:
        judged = judge_duration(duration("<", "2m"), evidence(never_started(), tmp_path))
        assert not judged.passed
        assert judged.measured is None
        assert judged.expected == "< 120"  # the operator too: "expected 2 min" misled
        assert "never ran" in judged.evidence


class TestOutput:
    LOG = "reading 12 invoices\nflagged 3 duplicates\nsaved 4.5 hours\ndone\n"

    def test_contains(self, tmp_path: Path) -> None:
        judged = judge_output(output(contains="done"), evidence(ran(stdout=self.LOG), tmp_path))
        assert judged.passed
        assert judged.expected == {"contains": "done"}
        assert judged.evidence == "stdout of step 'detect' satisfies every condition"

    def test_contains_missing(self, tmp_path: Path) -> None:
        judged = judge_output(output(contains="DONE"), evidence(ran(stdout=self.LOG), tmp_path))
        assert not judged.passed
        assert "does not contain 'DONE'" in judged.evidence

    def test_not_contains(self, tmp_path: Path) -> None:
        check = output(not_contains="Traceback")
        assert judge_output(check, evidence(ran(stdout=self.LOG), tmp_path)).passed
        broken = ran(stdout=self.LOG + "Traceback (most recent call last):\n")
        judged = judge_output(check, evidence(broken, tmp_path))
        assert not judged.passed
        assert "contains 'Traceback'" in judged.evidence

    def test_matches(self, tmp_path: Path) -> None:
        check = output(matches=r"flagged \d+ duplicates")
        assert judge_output(check, evidence(ran(stdout=self.LOG), tmp_path)).passed
        judged = judge_output(check, evidence(ran(stdout="flagged some"), tmp_path))
        assert not judged.passed
        assert "does not match" in judged.evidence

    def test_every_condition_and_every_failure_reported(self, tmp_path: Path) -> None:
        check = output(contains="finished", not_contains="flagged", matches=r"^error")
        judged = judge_output(check, evidence(ran(stdout=self.LOG), tmp_path))
        assert not judged.passed
        assert judged.expected == {
            "contains": "finished",
            "not_contains": "flagged",
            "matches": "^error",
        }
        assert judged.evidence == (
            "stdout of step 'detect' does not contain 'finished'; contains 'flagged';"
            " does not match '^error'"
        )

    def test_stderr(self, tmp_path: Path) -> None:
        step = ran(stdout="all good", stderr="WARNING: slow disk")
        assert judge_output(
            output(stream="stderr", contains="WARNING"), evidence(step, tmp_path)
        ).passed
        judged = judge_output(output(stream="stderr", contains="good"), evidence(step, tmp_path))
        assert not judged.passed
        assert judged.evidence.startswith("stderr of step 'detect'")

    def test_a_failed_step_output_is_still_judged_and_the_failure_noted(
        self, tmp_path: Path
    ) -> None:
        step = ran(1, stdout="done")
        judged = judge(output(contains="done"), evidence(step, tmp_path))
        assert judged.passed
        assert judged.evidence.endswith("(step 'detect' failed (exit 1))")

    def test_a_timed_out_step_s_output_is_incomplete(self, tmp_path: Path) -> None:
        step = ran(None, 300.0, timed_out=True, stdout="reading 12 invoices\ndone\n")
        judged = judge(output(contains="done"), evidence(step, tmp_path))
        assert not judged.passed
        assert "timed out after 300.0 s: its output is incomplete" in judged.evidence

    def test_never_ran(self, tmp_path: Path) -> None:
        judged = judge_output(output(not_contains="Traceback"), evidence(never_started(), tmp_path))
        assert not judged.passed  # nothing printed is no proof of anything
        assert judged.measured is None
        assert judged.expected == {"not_contains": "Traceback"}
        assert "never ran" in judged.evidence

    def test_measured_is_a_short_excerpt(self, tmp_path: Path) -> None:
        step = ran(stdout="  " + "x" * 10_000 + "\n")
        judged = judge_output(output(contains="x"), evidence(step, tmp_path))
        assert len(judged.measured) == EXCERPT
        assert judged.measured.endswith("...")

    def test_empty_output(self, tmp_path: Path) -> None:
        step = ran(stdout="")
        assert not judge_output(output(contains="done"), evidence(step, tmp_path)).passed
        assert judge_output(output(not_contains="Traceback"), evidence(step, tmp_path)).passed
        assert judge_output(output(matches="^$"), evidence(step, tmp_path)).passed


class TestOutputHoldingASecret:
    """Output is masked as it is captured: a text holding a secret is judged on the masked text
    and on which secret forms the capture masked, and the judgement shows only the mask."""

    @pytest.fixture(autouse=True)
    def _secret(self, monkeypatch: pytest.MonkeyPatch) -> None:
        register_secret(monkeypatch).add("another-secret-42")

    def printed(self, seen: set[str], stdout: str = "login ok, token=***\n") -> StepResult:
        return ran(stdout=stdout, secrets_seen={"stdout": seen})

    def test_contains_a_secret_the_step_printed_passes(self, tmp_path: Path) -> None:
        check = output(contains=f"token={SECRET}")
        judged = judge_output(check, evidence(self.printed({SECRET}), tmp_path))
        assert judged.passed
        assert judged.expected == {"contains": "token=***"}
        assert judged.measured == "login ok, token=***"

    def test_contains_a_secret_fails_when_another_form_of_it_was_printed(
        self, tmp_path: Path
    ) -> None:
        check = output(contains=f"token={SECRET}")
        judged = judge_output(check, evidence(self.printed({SECRET.encode().hex()}), tmp_path))
        assert not judged.passed
        assert judged.evidence == "stdout of step 'detect' does not contain 'token=***'"

    def test_contains_a_secret_fails_when_another_secret_was_printed(self, tmp_path: Path) -> None:
        check = output(contains=f"token={SECRET}")
        judged = judge_output(check, evidence(self.printed({"another-secret-42"}), tmp_path))
        assert not judged.passed

    def test_contains_a_secret_fails_when_the_text_around_it_differs(self, tmp_path: Path) -> None:
        check = output(contains=f"key={SECRET}")
        assert not judge_output(check, evidence(self.printed({SECRET}), tmp_path)).passed

    def test_a_mask_the_step_printed_itself_is_not_the_secret(self, tmp_path: Path) -> None:
        check = output(contains=f"token={SECRET}")
        assert not judge_output(check, evidence(self.printed(set()), tmp_path)).passed

    def test_the_secret_seen_on_one_stream_does_not_count_for_the_other(
        self, tmp_path: Path
    ) -> None:
        check = output(stream="stderr", contains=SECRET)
        step = ran(stdout="***", stderr="***", secrets_seen={"stdout": {SECRET}})
        assert not judge_output(check, evidence(step, tmp_path)).passed

    def test_not_contains_a_secret_fails_when_the_step_printed_it(self, tmp_path: Path) -> None:
        check = output(not_contains=SECRET)
        judged = judge_output(check, evidence(self.printed({SECRET}), tmp_path))
        assert not judged.passed
        assert judged.expected == {"not_contains": "***"}
        assert judged.evidence == "stdout of step 'detect' contains '***'"
        assert judge_output(check, evidence(self.printed(set(), "login ok"), tmp_path)).passed

    def test_a_secret_in_a_regex_is_masked_in_the_judgement(self, tmp_path: Path) -> None:
        check = output(matches=f"token={SECRET}$")
        judged = judge_output(check, evidence(self.printed({SECRET}), tmp_path))
        assert judged.expected == {"matches": "token=***$"}
        assert SECRET not in judged.evidence


def test_judge_dispatches_on_the_check_type(tmp_path: Path) -> None:
    proof = evidence(ran(0, 1.0, stdout="done"), tmp_path)
    assert judge(exit_code(), proof).passed
    assert judge(duration("<", "2m"), proof).passed
    assert judge(output(contains="done"), proof).passed
