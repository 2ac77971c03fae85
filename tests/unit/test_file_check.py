"""`file` checks: the artifact exists (or not), its sha256 and its size (spec, "Check types")."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from poc_runner.checks.evidence import Evidence
from poc_runner.checks.file_check import judge_file
from poc_runner.model.checks import Check, FileCheck
from poc_runner.steps import StepResult
from tests.unit.sample_results import SECRET, register_secret

CONTENT = b'{"flagged": [7, 9]}\n'
SHA = hashlib.sha256(CONTENT).hexdigest()


def check(**fields: Any) -> FileCheck:
    fields.setdefault("artifact", "/out/flagged.json")
    model = TypeAdapter(Check).validate_python({"type": "file", **fields})
    assert isinstance(model, FileCheck)
    return model


def evidence(
    tmp_path: Path,
    files: dict[str, bytes] | None = None,
    *,
    collects: str = "/out",
    ran: bool = True,
) -> Evidence:
    """A run whose step collected `collects` and wrote `files` (container path -> bytes)."""
    run_folder = tmp_path / "run"
    for name, content in (files or {}).items():
        target = run_folder / "artifacts" / name.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    step = StepResult(
        "detect", "app", exit_code=0, ran=ran, artifacts={collects: bool(files)} if ran else {}
    )
    return Evidence({"detect": step}, run_folder, tmp_path)


def written(tmp_path: Path) -> Evidence:
    return evidence(tmp_path, {"/out/flagged.json": CONTENT})


class TestExists:
    def test_exists_by_default(self, tmp_path: Path) -> None:
        judged = judge_file(check(), written(tmp_path))
        assert judged.passed
        assert judged.measured == {"exists": True}
        assert judged.expected == {"exists": True}
        assert judged.evidence == (
            f"artifact /out/flagged.json (a file of {len(CONTENT)} bytes) satisfies every condition"
        )

    def test_not_produced(self, tmp_path: Path) -> None:
        judged = judge_file(check(), evidence(tmp_path, collects="/out/flagged.json"))
        assert not judged.passed
        assert judged.measured == {"exists": False}
        assert judged.evidence == (
            "artifact /out/flagged.json was not produced: step 'detect' ran but did not write it"
        )

    def test_a_collected_folder_without_the_file(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, {"/out/other.json": b"{}"})
        judged = judge_file(check(), proof)
        assert not judged.passed
        assert "was not produced" in judged.evidence

    def test_never_collected(self, tmp_path: Path) -> None:
        judged = judge_file(check(), evidence(tmp_path, ran=False))
        assert not judged.passed
        assert judged.measured is None
        assert judged.evidence == (
            "artifact /out/flagged.json was never collected: no step that collects it ran"
        )

    def test_no_steps_at_all(self, tmp_path: Path) -> None:
        judged = judge_file(check(), Evidence({}, tmp_path / "run", tmp_path))
        assert not judged.passed
        assert "never collected" in judged.evidence

    def test_an_artifact_named_after_a_secret_is_read_where_its_copy_masked_the_name(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        register_secret(monkeypatch)
        proof = evidence(tmp_path, {"/out/***.json": CONTENT})
        assert judge_file(check(artifact=f"/out/{SECRET}.json"), proof).passed


class TestExistsFalse:
    def test_passes_when_absent(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, collects="/out/errors.log")
        judged = judge_file(check(artifact="/out/errors.log", exists=False), proof)
        assert judged.passed
        assert judged.measured == {"exists": False}
        assert judged.expected == {"exists": False}
        assert "was not produced" in judged.evidence

    def test_fails_when_present(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, {"/out/errors.log": b"boom\n"})
        judged = judge_file(check(artifact="/out/errors.log", exists=False), proof)
        assert not judged.passed
        assert judged.measured == {"exists": True}
        assert judged.evidence == "artifact /out/errors.log exists: a file of 5 bytes"

    def test_a_step_that_never_ran_proves_no_absence(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, ran=False)
        judged = judge_file(check(artifact="/out/errors.log", exists=False), proof)
        assert not judged.passed
        assert judged.measured is None
        assert "never collected" in judged.evidence


class TestSha256:
    def test_matches(self, tmp_path: Path) -> None:
        judged = judge_file(check(sha256=SHA), written(tmp_path))
        assert judged.passed
        assert judged.measured == {"exists": True, "sha256": SHA}
        assert judged.expected == {"exists": True, "sha256": SHA}

    def test_differs(self, tmp_path: Path) -> None:
        other = "0" * 64
        judged = judge_file(check(sha256=other), written(tmp_path))
        assert not judged.passed
        assert judged.measured["sha256"] == SHA
        assert f"has sha256 {SHA}, not {other}" in judged.evidence

    def test_missing_file(self, tmp_path: Path) -> None:
        judged = judge_file(check(sha256=SHA), evidence(tmp_path, ran=False))
        assert not judged.passed
        assert judged.expected == {"exists": True, "sha256": SHA}

    def test_a_folder_has_no_sha256(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, {"/out/tables/a.csv": b"id\n"})
        judged = judge_file(check(artifact="/out/tables", sha256=SHA), proof)
        assert not judged.passed
        assert "is a folder, which has no sha256" in judged.evidence


class TestSize:
    @pytest.mark.parametrize(
        ("op", "value", "passed"),
        [
            (">", 0, True),
            ("==", len(CONTENT), True),
            ("==", str(len(CONTENT)), True),  # from a ${var}
            ("<", 10, False),
            ("between", [1, 1024], True),
            ("between", [100, 1024], False),
        ],
    )
    def test_compared_in_bytes(self, tmp_path: Path, op: str, value: Any, passed: bool) -> None:
        judged = judge_file(check(size={"op": op, "value": value}), written(tmp_path))
        assert judged.passed is passed
        assert judged.measured == {"exists": True, "size": len(CONTENT)}
        bound = f"between {value[0]} and {value[1]}" if op == "between" else f"{op} {value}"
        assert judged.expected == {"exists": True, "size": bound}

    def test_failure_says_so(self, tmp_path: Path) -> None:
        judged = judge_file(check(size={"op": "<", "value": 10}), written(tmp_path))
        assert judged.evidence.endswith("is not < 10 bytes")

    def test_empty_file(self, tmp_path: Path) -> None:
        proof = evidence(tmp_path, {"/out/flagged.json": b""})
        assert judge_file(check(), proof).passed
        assert not judge_file(check(size={"op": ">", "value": 0}), proof).passed

    def test_a_folder_totals_its_files(self, tmp_path: Path) -> None:
        files = {"/out/tables/a.csv": b"x" * 10, "/out/tables/deep/b.csv": b"y" * 5}
        proof = evidence(tmp_path, files)
        judged = judge_file(check(artifact="/out/tables", size={"op": "==", "value": 15}), proof)
        assert judged.passed
        assert judged.measured == {"exists": True, "size": 15}
        assert "(a folder of 2 file(s), 15 bytes)" in judged.evidence

    def test_an_empty_folder_exists(self, tmp_path: Path) -> None:
        (tmp_path / "run/artifacts/out/tables").mkdir(parents=True)
        proof = Evidence(
            {"detect": StepResult("detect", "app", ran=True, artifacts={"/out/tables": True})},
            tmp_path / "run",
            tmp_path,
        )
        assert judge_file(check(artifact="/out/tables"), proof).passed
        assert not judge_file(
            check(artifact="/out/tables", size={"op": ">", "value": 0}), proof
        ).passed

    def test_a_secret_bound_that_is_not_a_number(self, tmp_path: Path) -> None:
        judged = judge_file(check(size={"op": ">", "value": "${LIMIT}"}), written(tmp_path))
        assert not judged.passed
        assert "is not a number" in judged.evidence


def test_every_failure_is_reported(tmp_path: Path) -> None:
    judged = judge_file(check(sha256="0" * 64, size={"op": ">", "value": 1000}), written(tmp_path))
    assert not judged.passed
    assert "has sha256" in judged.evidence
    assert "; is not > 1000 bytes" in judged.evidence
