"""`metric` checks: a number out of a step's output, compared (spec, "Check types")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from poc_runner.checks import judge
from poc_runner.checks.evidence import Evidence
from poc_runner.checks.metric import judge_metric
from poc_runner.model.checks import Check, MetricCheck
from poc_runner.steps import StepResult

LOG = """\
reading 12 invoices
processed 40%
processed 100%
{"event": "progress", "recall": 0.5}
{"event": "done", "recall": 0.97, "rows": 12}
saved 4.5 hours
{"event": "bye"}
"""


def check(**fields: Any) -> MetricCheck:
    fields.setdefault("op", ">=")
    fields.setdefault("value", 0)
    model = TypeAdapter(Check).validate_python({"type": "metric", "step": "detect", **fields})
    assert isinstance(model, MetricCheck)
    return model


def evidence(
    tmp_path: Path,
    stdout: str = LOG,
    stderr: str = "",
    *,
    ran: bool = True,
    timed_out: bool = False,
) -> Evidence:
    step = StepResult(
        "detect",
        "app",
        exit_code=None if timed_out else 0,
        duration_s=3.0,
        timed_out=timed_out,
        ran=ran,
        stdout=stdout,
        stderr=stderr,
    )
    return Evidence({"detect": step}, tmp_path / "run", tmp_path)


class TestPattern:
    def test_passes(self, tmp_path: Path) -> None:
        judged = judge_metric(
            check(pattern=r"saved ([0-9.]+) hours", op="between", value=[1, 1000]),
            evidence(tmp_path),
        )
        assert judged.passed
        assert judged.measured == 4.5
        assert judged.expected == "between 1 and 1000"
        assert judged.evidence == (
            "stdout of step 'detect': the last match 'saved 4.5 hours' gives 4.5"
        )

    def test_fails(self, tmp_path: Path) -> None:
        judged = judge_metric(check(pattern=r"saved (\S+)", op=">", value=8), evidence(tmp_path))
        assert not judged.passed
        assert judged.measured == 4.5
        assert judged.expected == "> 8"

    def test_the_last_match_wins(self, tmp_path: Path) -> None:
        judged = judge_metric(
            check(pattern=r"processed (\d+)%", op="==", value=100), evidence(tmp_path)
        )
        assert judged.passed
        assert judged.measured == 100
        assert "gives 100" in judged.evidence

    def test_a_value_from_a_var(self, tmp_path: Path) -> None:
        metric = check(pattern=r"saved (\S+)", op=">=", value="4.5")
        assert judge_metric(metric, evidence(tmp_path)).passed

    def test_no_match(self, tmp_path: Path) -> None:
        judged = judge_metric(check(pattern=r"recall=(\S+)"), evidence(tmp_path))
        assert not judged.passed
        assert judged.measured is None
        assert judged.evidence.startswith(
            "stdout of step 'detect': nothing matches 'recall=(\\\\S+)'; it ends '...100%"
        )
        assert '{"event": "bye"}' in judged.evidence

    def test_no_match_in_long_output_shows_only_the_end(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, "x" * 100_000 + "\nthe end\n")
        judged = judge_metric(check(pattern=r"recall=(\S+)"), proof)
        assert not judged.passed
        assert judged.evidence.endswith("the end'")
        assert len(judged.evidence) < 250

    def test_no_output(self, tmp_path: Path) -> None:
        judged = judge_metric(check(pattern=r"recall=(\S+)"), evidence(tmp_path, ""))
        assert not judged.passed
        assert judged.evidence.endswith("; it printed nothing")

    def test_text_that_is_not_a_number(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, "recall: 0.9\nrecall: n/a\n")
        judged = judge_metric(check(pattern=r"recall: (\S+)", op=">=", value=0.9), proof)
        assert not judged.passed
        assert judged.measured is None
        assert judged.evidence == (
            "stdout of step 'detect': the last match 'recall: n/a' gives 'n/a', which is not a number"
        )

    def test_a_group_that_took_no_part(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, "total: none\n")
        judged = judge_metric(check(pattern=r"total: (?:(\d+)|none)"), proof)
        assert not judged.passed
        assert "gives None, which is not a number" in judged.evidence

    def test_stderr(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, stdout="rows: 1", stderr="rows: 12")
        judged = judge_metric(
            check(pattern=r"rows: (\d+)", stream="stderr", op="==", value=12), proof
        )
        assert judged.passed
        assert judged.evidence.startswith("stderr of step 'detect':")

    @pytest.mark.parametrize(
        ("printed", "number"), [("-3", -3.0), ("1e3", 1000.0), (".5", 0.5), ("+2.25", 2.25)]
    )
    def test_number_spellings(self, tmp_path: Path, printed: str, number: float) -> None:
        judged = judge_metric(
            check(pattern=r"x=(\S+)", op=">", value=-10), evidence(tmp_path, f"x={printed}")
        )
        assert judged.passed
        assert judged.measured == number


class TestJsonLine:
    def test_the_last_line_with_the_key(self, tmp_path: Path) -> None:
        judged = judge_metric(check(json_line="recall", op=">=", value="0.95"), evidence(tmp_path))
        assert judged.passed
        assert judged.measured == 0.97
        assert judged.evidence == (
            "stdout of step 'detect': the last JSON line with 'recall'"
            ' \'{"event": "done", "recall": 0.97, "rows": 12}\' gives 0.97'
        )

    def test_fails(self, tmp_path: Path) -> None:
        judged = judge_metric(check(json_line="rows", op=">", value=12), evidence(tmp_path))
        assert not judged.passed
        assert judged.measured == 12

    def test_no_line_with_the_key(self, tmp_path: Path) -> None:
        judged = judge_metric(check(json_line="precision"), evidence(tmp_path))
        assert not judged.passed
        assert judged.measured is None
        assert "no line is a JSON object with the key 'precision'" in judged.evidence

    def test_lines_that_are_not_json_objects_are_skipped(self, tmp_path: Path) -> None:
        proof = evidence(
            tmp_path,
            '{"recall": 0.9}\n{"recall": broken}\n["recall", 1]\n  {"recall": 0.8}  \n{nope\n',
        )
        judged = judge_metric(check(json_line="recall"), proof)
        assert judged.measured == 0.8

    def test_numeric_text_counts(self, tmp_path: Path) -> None:
        judged = judge_metric(
            check(json_line="recall", op=">", value=0.9), evidence(tmp_path, '{"recall": "0.97"}')
        )
        assert judged.passed
        assert judged.measured == 0.97

    @pytest.mark.parametrize(
        ("value", "shown"),
        [("true", "True"), ("null", "None"), ('"high"', "'high'"), ("[1]", "[1]")],
    )
    def test_values_that_are_not_numbers(self, tmp_path: Path, value: str, shown: str) -> None:
        proof = evidence(tmp_path, f'{{"recall": {value}}}\n')
        judged = judge_metric(check(json_line="recall", op=">=", value=0.9), proof)
        assert not judged.passed
        assert judged.measured is None
        assert judged.evidence.endswith(f"gives {shown}, which is not a number")

    def test_deeply_nested_lines_do_not_break_it(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, '{"recall": 0.9}\n{"a":' + "[" * 100_000 + "}\n")
        assert judge_metric(check(json_line="recall"), proof).measured == 0.9


class TestBrokenEvidence:
    def test_never_ran(self, tmp_path: Path) -> None:
        judged = judge_metric(
            check(json_line="recall", op=">=", value=0.95), evidence(tmp_path, ran=False)
        )
        assert not judged.passed
        assert judged.measured is None
        assert judged.expected == ">= 0.95"
        assert "never ran" in judged.evidence

    def test_timed_out_is_not_final(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, "processed 100%\n", timed_out=True)
        judged = judge(check(pattern=r"processed (\d+)%", op=">", value=50), proof)
        assert not judged.passed
        assert judged.measured is None
        assert judged.evidence.endswith(": a figure it printed proves nothing")
        assert "timed out" in judged.evidence

    def test_a_secret_bound_that_is_not_a_number(self, tmp_path: Path) -> None:
        judged = judge_metric(
            check(json_line="recall", op=">=", value="${MIN}"), evidence(tmp_path)
        )
        assert not judged.passed
        assert judged.measured == 0.97
        assert "is not a number" in judged.evidence
