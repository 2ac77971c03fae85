"""`json` checks: a value out of a JSON artifact or a step's stdout, compared (spec, "Check
types")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from poc_runner.checks import judge
from poc_runner.checks.evidence import Evidence
from poc_runner.checks.json_check import judge_json
from poc_runner.model.checks import Check, JsonCheck
from poc_runner.steps import StepResult

ARTIFACT = "/out/flagged.json"
REPORT = {
    "metrics": {"recall": 0.97, "precision": 0.9, "status": "done", "note": None},
    "flagged": [
        {"id": 7, "vendor": "Northwind", "amount": 120.5},
        {"id": 9, "vendor": "Contoso", "amount": 80},
    ],
    "vendors": ["Northwind", "Contoso"],
}


def check(**fields: Any) -> JsonCheck:
    source = {} if "step" in fields else {"artifact": ARTIFACT}
    model = TypeAdapter(Check).validate_python({"type": "json", **source, **fields})
    assert isinstance(model, JsonCheck)
    return model


def step(stdout: str = "", *, ran: bool = True, timed_out: bool = False) -> StepResult:
    return StepResult(
        "detect",
        "app",
        exit_code=None if timed_out else 0,
        duration_s=30.0,
        timed_out=timed_out,
        ran=ran,
        stdout=stdout,
        artifacts={ARTIFACT: True} if ran else {},
    )


def evidence(tmp_path: Path, content: str | bytes | None = None, **run: Any) -> Evidence:
    """A run whose step wrote `content` to the artifact (None: wrote nothing)."""
    run_folder = tmp_path / "run"
    if content is not None:
        target = run_folder / "artifacts" / ARTIFACT.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        target.write_bytes(data)
    result = step(**run)
    return Evidence({result.name: result}, run_folder, tmp_path)


def report(tmp_path: Path) -> Evidence:
    return evidence(tmp_path, json.dumps(REPORT))


class TestArtifact:
    def test_passes(self, tmp_path: Path) -> None:
        judged = judge_json(check(path="$.metrics.recall", op=">=", value=0.95), report(tmp_path))
        assert judged.passed
        assert judged.measured == 0.97
        assert judged.expected == ">= 0.95"
        assert judged.evidence == "artifact /out/flagged.json: $.metrics.recall = 0.97"

    def test_fails(self, tmp_path: Path) -> None:
        judged = judge_json(check(path="$.metrics.recall", op=">=", value=0.99), report(tmp_path))
        assert not judged.passed
        assert judged.measured == 0.97
        assert judged.expected == ">= 0.99"

    def test_a_value_from_a_var_compares_as_a_number(self, tmp_path: Path) -> None:
        # `value: ${threshold}` with vars {threshold: "0.95"} arrives as text
        judged = judge_json(check(path="$.metrics.recall", op=">=", value="0.95"), report(tmp_path))
        assert judged.passed
        assert not judge_json(
            check(path="$.metrics.recall", op=">", value="0.975"), report(tmp_path)
        ).passed
        assert judge_json(
            check(path="$.metrics.recall", op="==", value="0.970"), report(tmp_path)
        ).passed

    @pytest.mark.parametrize(
        ("path", "op", "value", "passed"),
        [
            ("$.metrics.status", "==", "done", True),
            ("$.metrics.status", "!=", "done", False),
            ("$.metrics.status", "matches", "^do", True),
            ("$.metrics.status", "contains", "on", True),  # one text value: a substring
            ("$.metrics.precision", "between", [0.8, 0.95], True),
            ("$.metrics.precision", "between", [0.91, 1], False),
            ("$.vendors", "contains", "Contoso", True),  # one list value: an equal item
            ("$.vendors", "contains", "Contos", False),
            ("$.flagged[0].id", "==", "7", True),
            ("$.flagged[-1].vendor", "==", "Contoso", True),
            ("$.metrics.note", "==", None, True),
        ],
    )
    def test_operators(self, tmp_path: Path, path: str, op: str, value: Any, passed: bool) -> None:
        assert judge_json(check(path=path, op=op, value=value), report(tmp_path)).passed is passed

    def test_a_bom_is_ignored(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, b"\xef\xbb\xbf" + json.dumps(REPORT).encode())
        assert judge_json(check(path="$.metrics.recall", op=">=", value=0.95), proof).passed


class TestWildcard:
    def test_every_value_must_hold(self, tmp_path: Path) -> None:
        judged = judge_json(check(path="$.flagged[*].amount", op=">", value=50), report(tmp_path))
        assert judged.passed
        assert judged.measured == [120.5, 80]
        assert judged.evidence == (
            "artifact /out/flagged.json: $.flagged[*].amount selected 2 value(s): [120.5, 80]"
        )

    def test_one_value_that_fails_is_named(self, tmp_path: Path) -> None:
        judged = judge_json(check(path="$.flagged[*].amount", op=">", value=100), report(tmp_path))
        assert not judged.passed
        assert judged.evidence.endswith("; 80 is not > 100")

    def test_contains_looks_for_an_equal_value(self, tmp_path: Path) -> None:
        contains = check(path="$.flagged[*].id", op="contains", value="9")
        assert judge_json(contains, report(tmp_path)).passed
        absent = check(path="$.flagged[*].id", op="contains", value=8)
        assert not judge_json(absent, report(tmp_path)).passed

    def test_one_match_is_still_a_list(self, tmp_path: Path) -> None:
        # the criterion means the same with one row as with many: no substring match
        proof = evidence(tmp_path, json.dumps({"rows": [{"vendor": "Northwind"}]}))
        assert not judge_json(
            check(path="$.rows[*].vendor", op="contains", value="North"), proof
        ).passed
        judged = judge_json(check(path="$.rows[*].vendor", op="==", value="Northwind"), proof)
        assert judged.passed
        assert judged.measured == ["Northwind"]

    def test_not_equal_holds_for_every_value(self, tmp_path: Path) -> None:
        assert judge_json(
            check(path="$.flagged[*].vendor", op="!=", value="Fabrikam"), report(tmp_path)
        ).passed
        assert not judge_json(
            check(path="$.flagged[*].vendor", op="!=", value="Contoso"), report(tmp_path)
        ).passed

    def test_an_empty_selection_fails(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, json.dumps({"rows": []}))
        judged = judge_json(check(path="$.rows[*].amount", op=">=", value=0), proof)
        assert not judged.passed  # nothing to hold for is no proof
        assert "matched nothing" in judged.evidence


class TestStdout:
    def test_reads_the_step_output(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, stdout='{"status": "up", "rows": 12}\n')
        judged = judge_json(check(step="detect", path="$.rows", op="==", value=12), proof)
        assert judged.passed
        assert judged.evidence == "stdout of step 'detect': $.rows = 12"

    def test_output_that_is_not_json(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, stdout="loading...\n{}")
        judged = judge_json(check(step="detect", path="$.rows", op="==", value=12), proof)
        assert not judged.passed
        assert judged.measured is None
        assert judged.evidence.startswith("stdout of step 'detect' is not valid JSON: ")
        assert "line 1 column 1" in judged.evidence

    def test_empty_output(self, tmp_path: Path) -> None:
        judged = judge_json(
            check(step="detect", path="$.rows", op="==", value=12), evidence(tmp_path)
        )
        assert not judged.passed
        assert judged.evidence == "stdout of step 'detect' is empty, not JSON"

    def test_never_ran(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, ran=False)
        judged = judge_json(check(step="detect", path="$.rows", op="==", value=12), proof)
        assert not judged.passed
        assert judged.expected == "== 12"
        assert "never ran" in judged.evidence

    def test_an_unknown_step_never_ran(self, tmp_path: Path) -> None:
        judged = judge_json(check(step="load", path="$.rows", op="==", value=12), report(tmp_path))
        assert not judged.passed
        assert "step 'load' never ran" in judged.evidence

    def test_timed_out_fails_even_when_the_value_fits(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, stdout='{"rows": 12}', timed_out=True)
        judged = judge(check(step="detect", path="$.rows", op="==", value=12), proof)
        assert not judged.passed
        assert judged.measured is None  # an incomplete output's figure is no measurement
        assert "timed out" in judged.evidence and "incomplete" in judged.evidence

    def test_timed_out_with_incomplete_json(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, stdout='{"rows": [1, 2', timed_out=True)
        judged = judge(check(step="detect", path="$.rows", op="contains", value=1), proof)
        assert not judged.passed
        assert "timed out" in judged.evidence

    def test_output_cut_in_the_middle_says_so(self, tmp_path: Path) -> None:
        cut = '{"rows": [1,\n[poc-runner: 99 bytes cut here; kept the first 10 and the last 3 of 112]\n2]}'
        judged = judge_json(
            check(step="detect", path="$.rows", op="==", value=1), evidence(tmp_path, stdout=cut)
        )
        assert not judged.passed
        assert "only its head and tail were kept" in judged.evidence


class TestBrokenEvidence:
    def test_no_match(self, tmp_path: Path) -> None:
        judged = judge_json(check(path="$.metrics.f1", op=">=", value=0.9), report(tmp_path))
        assert not judged.passed
        assert judged.measured is None
        assert judged.expected == ">= 0.9"
        assert judged.evidence == "path $.metrics.f1 matched nothing in artifact /out/flagged.json"

    def test_wrong_shape_matches_nothing(self, tmp_path: Path) -> None:
        judged = judge_json(check(path="$.flagged.id", op="==", value=7), report(tmp_path))
        assert not judged.passed
        assert "matched nothing" in judged.evidence

    def test_artifact_never_collected(self, tmp_path: Path) -> None:
        judged = judge_json(
            check(path="$.metrics.recall", op=">=", value=0.95), evidence(tmp_path, ran=False)
        )
        assert not judged.passed
        assert judged.measured is None
        assert judged.evidence == (
            "artifact /out/flagged.json was never collected: no step that collects it ran"
        )

    def test_artifact_not_produced(self, tmp_path: Path) -> None:
        judged = judge_json(check(path="$.metrics.recall", op=">=", value=0.95), evidence(tmp_path))
        assert not judged.passed
        assert judged.evidence == (
            "artifact /out/flagged.json was not produced: step 'detect' ran but did not write it"
        )

    @pytest.mark.parametrize(
        ("content", "said"),
        [
            ('{"metrics": {"recall": 0.97}', "is not valid JSON: Expecting ',' delimiter"),
            ("", "is empty, not JSON"),
            ("  \n", "is empty, not JSON"),
            ("recall=0.97", "is not valid JSON: Expecting value at line 1 column 1"),
            ("{'recall': 0.97}", "is not valid JSON"),
            (b"\xff\xfe{}", "is not UTF-8 text"),
            ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ],
    )
    def test_unreadable_json(self, tmp_path: Path, content: str | bytes, said: str) -> None:
        judged = judge_json(
            check(path="$.metrics.recall", op=">=", value=0.95), evidence(tmp_path, content)
        )
        assert not judged.passed
        assert judged.measured is None
        assert said in judged.evidence
        assert judged.evidence.startswith("artifact /out/flagged.json ")
        assert len(judged.evidence) < 300

    def test_folder_artifact(self, tmp_path: Path) -> None:
        (tmp_path / "run/artifacts/out/flagged.json").mkdir(parents=True)
        judged = judge_json(
            check(path="$.metrics.recall", op=">=", value=0.95),
            Evidence({"detect": step()}, tmp_path / "run", tmp_path),
        )
        assert not judged.passed
        assert "is a folder, not a JSON file" in judged.evidence

    def test_non_numeric_value_with_an_ordering_operator(self, tmp_path: Path) -> None:
        judged = judge_json(check(path="$.metrics.status", op=">=", value=0.95), report(tmp_path))
        assert not judged.passed
        assert judged.measured == "done"
        assert judged.evidence == (
            'artifact /out/flagged.json: $.metrics.status = "done";'
            " 'done' is not a number, so `>=` cannot compare it"
        )

    @pytest.mark.parametrize("value", [True, None, [1], {"a": 1}])
    def test_non_numbers_with_an_ordering_operator(self, tmp_path: Path, value: Any) -> None:
        proof = evidence(tmp_path, json.dumps({"x": value}))
        judged = judge_json(check(path="$.x", op=">", value=0), proof)
        assert not judged.passed
        assert "is not a number" in judged.evidence

    def test_a_secret_value_that_is_not_a_number(self, tmp_path: Path) -> None:
        judged = judge_json(check(path="$.metrics.recall", op=">=", value="${X}"), report(tmp_path))
        assert not judged.passed
        assert "is not a number" in judged.evidence

    def test_a_large_value_is_cut_short(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, json.dumps({"log": "x" * 100_000, "rows": list(range(50_000))}))
        text = judge_json(check(path="$.log", op="contains", value="x"), proof)
        assert text.passed
        assert len(text.measured) <= 1000
        assert len(text.evidence) < 200
        rows = judge_json(check(path="$.rows[*]", op=">=", value=0), proof)
        assert rows.passed
        assert isinstance(rows.measured, str)
        assert len(rows.measured) <= 1000
        assert len(rows.evidence) < 200
