"""`csv` checks: the product's table against the expected one (spec, "Check types")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from poc_runner.checks.csv_check import judge_csv
from poc_runner.checks.evidence import Evidence
from poc_runner.model.checks import Check, CsvCheck
from poc_runner.steps import StepResult

ARTIFACT = "/out/tables/flagged.csv"
EXPECTED = """\
id,vendor,amount
1,Northwind,10.00
2,Contoso,20.50
3,Fabrikam,7
"""


def check(**fields: Any) -> CsvCheck:
    model = TypeAdapter(Check).validate_python(
        {"type": "csv", "artifact": ARTIFACT, "expected": "expected/flagged.csv", **fields}
    )
    assert isinstance(model, CsvCheck)
    return model


def evidence(
    tmp_path: Path,
    produced: str | bytes | None,
    expected: str | bytes | None = EXPECTED,
    *,
    ran: bool = True,
) -> Evidence:
    """A run whose step wrote `produced` (None: nothing), in a scenario expecting `expected`."""
    scenario, run_folder = tmp_path / "scenario", tmp_path / "run"
    for target, content in (
        (run_folder / "artifacts" / ARTIFACT.lstrip("/"), produced),
        (scenario / "expected/flagged.csv", expected),
    ):
        if content is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
    step = StepResult("detect", "app", exit_code=0, ran=ran, artifacts={"/out/tables": True})
    return Evidence({"detect": step}, run_folder, scenario)


class TestMatching:
    def test_identical_tables(self, tmp_path: Path) -> None:
        judged = judge_csv(check(key="id"), evidence(tmp_path, EXPECTED))
        assert judged.passed
        assert (judged.measured, judged.expected) == (0, 0)
        assert judged.evidence == (
            "artifact /out/tables/flagged.csv against expected/flagged.csv:"
            " all 3 expected rows match (by id, on vendor, amount)"
        )

    def test_rows_in_another_order_match_by_key(self, tmp_path: Path) -> None:
        produced = "id,vendor,amount\n3,Fabrikam,7\n1,Northwind,10.00\n2,Contoso,20.50\n"
        assert judge_csv(check(key="id"), evidence(tmp_path, produced)).passed

    def test_without_a_key_order_matters(self, tmp_path: Path) -> None:
        produced = "id,vendor,amount\n3,Fabrikam,7\n1,Northwind,10.00\n2,Contoso,20.50\n"
        assert judge_csv(check(), evidence(tmp_path, EXPECTED)).passed
        judged = judge_csv(check(), evidence(tmp_path, produced))
        assert not judged.passed
        assert judged.measured == 3
        assert "(in order, on id, vendor, amount)" in judged.evidence
        assert "row 1: id '3' (expected '1'), vendor 'Fabrikam' (expected 'Northwind')" in (
            judged.evidence
        )

    def test_columns_in_another_order(self, tmp_path: Path) -> None:
        produced = "amount,id,vendor\n10.00,1,Northwind\n20.50,2,Contoso\n7,3,Fabrikam\n"
        assert judge_csv(check(key="id"), evidence(tmp_path, produced)).passed

    def test_numbers_compare_as_numbers(self, tmp_path: Path) -> None:
        produced = "id,vendor,amount\n1,Northwind,10\n2,Contoso,20.5\n3,Fabrikam,7.000\n"
        assert judge_csv(check(key="id"), evidence(tmp_path, produced)).passed

    def test_tolerance(self, tmp_path: Path) -> None:
        produced = "id,vendor,amount\n1,Northwind,10.01\n2,Contoso,20.49\n3,Fabrikam,6.99\n"
        assert not judge_csv(check(key="id"), evidence(tmp_path, produced)).passed
        judged = judge_csv(check(key="id", tolerance=0.01), evidence(tmp_path, produced))
        assert judged.passed
        assert "within 0.01" in judged.evidence
        assert not judge_csv(check(key="id", tolerance=0.009), evidence(tmp_path, produced)).passed

    def test_whitespace_around_cells_and_names_is_ignored(self, tmp_path: Path) -> None:
        produced = " id , vendor ,amount\n1, Northwind ,10.00\n2,Contoso ,20.50\n 3,Fabrikam,7\n"
        assert judge_csv(check(key="id"), evidence(tmp_path, produced)).passed

    def test_text_is_compared_exactly_otherwise(self, tmp_path: Path) -> None:
        produced = "id,vendor,amount\n1,northwind,10.00\n2,Contoso,20.50\n3,Fabrikam,7\n"
        judged = judge_csv(check(key="id"), evidence(tmp_path, produced))
        assert not judged.passed
        assert "row id='1': vendor 'northwind' (expected 'Northwind')" in judged.evidence

    def test_a_subset_of_columns(self, tmp_path: Path) -> None:
        produced = "id,vendor,amount,score\n1,NW,10.00,0.1\n2,C,20.50,0.2\n3,F,7,0.3\n"
        assert not judge_csv(check(key="id"), evidence(tmp_path, produced)).passed
        judged = judge_csv(check(key="id", columns=["amount"]), evidence(tmp_path, produced))
        assert judged.passed
        assert "(by id, on amount)" in judged.evidence

    def test_a_composite_key(self, tmp_path: Path) -> None:
        expected = "vendor,invoice,amount\nNW,1,10\nNW,2,20\nC,1,30\n"
        produced = "vendor,invoice,amount\nC,1,30\nNW,2,21\nNW,1,10\n"
        judged = judge_csv(check(key=["vendor", "invoice"]), evidence(tmp_path, produced, expected))
        assert not judged.passed
        assert judged.measured == 1
        assert "row vendor='NW', invoice='2': amount '21' (expected '20')" in judged.evidence

    def test_repeated_keys_pair_in_order(self, tmp_path: Path) -> None:
        expected = "id,amount\n1,10\n1,11\n2,5\n"
        assert judge_csv(
            check(key="id"), evidence(tmp_path, "id,amount\n2,5\n1,10\n1,11\n", expected)
        ).passed
        judged = judge_csv(check(key="id"), evidence(tmp_path, "id,amount\n1,10\n2,5\n", expected))
        assert not judged.passed
        assert "missing row id='1'" in judged.evidence

    def test_a_bom_crlf_and_blank_lines(self, tmp_path: Path) -> None:
        produced = (
            "\ufeffid,vendor,amount\r\n1,Northwind,10.00\r\n\r\n2,Contoso,20.50\r\n3,Fabrikam,7\r\n"
        )
        assert judge_csv(check(key="id"), evidence(tmp_path, produced.encode())).passed
        expected = "\ufeff" + EXPECTED
        assert judge_csv(check(key="id"), evidence(tmp_path, EXPECTED, expected.encode())).passed

    def test_quoted_cells(self, tmp_path: Path) -> None:
        expected = 'id,vendor\n1,"Northwind, Inc."\n2,"say ""hi"""\n'
        produced = 'id,vendor\n1,"Northwind, Inc."\n2,"say ""hi"""\n'
        assert judge_csv(check(key="id"), evidence(tmp_path, produced, expected)).passed

    def test_short_rows_have_empty_cells(self, tmp_path: Path) -> None:
        expected = "id,note\n1,\n2,x\n"
        produced = "id,note\n1\n2,x\n"
        assert judge_csv(check(key="id"), evidence(tmp_path, produced, expected)).passed

    def test_empty_tables_match(self, tmp_path: Path) -> None:
        judged = judge_csv(check(key="id"), evidence(tmp_path, "id,amount\n", "id,amount\n"))
        assert judged.passed
        assert "all 0 expected rows match" in judged.evidence


class TestDifferences:
    def test_changed_missing_and_extra_rows(self, tmp_path: Path) -> None:
        produced = "id,vendor,amount\n1,Northwind,12.00\n2,Contoso,20.50\n4,Tailspin,1\n"
        judged = judge_csv(check(key="id"), evidence(tmp_path, produced))
        assert not judged.passed
        assert judged.measured == 3
        assert judged.expected == 0
        assert judged.evidence == (
            "artifact /out/tables/flagged.csv against expected/flagged.csv: 3 rows differ"
            " (1 changed, 1 missing, 1 extra) of 3 expected (by id, on vendor, amount):"
            " row id='1': amount '12.00' (expected '10.00'); extra row id='4';"
            " missing row id='3'"
        )

    def test_rows_counted_once_however_many_cells_differ(self, tmp_path: Path) -> None:
        produced = "id,vendor,amount\n1,A,1\n2,Contoso,20.50\n3,Fabrikam,7\n"
        judged = judge_csv(check(key="id"), evidence(tmp_path, produced))
        assert judged.measured == 1
        assert "row id='1': vendor 'A' (expected 'Northwind'), amount '1' (expected '10.00')" in (
            judged.evidence
        )

    def test_without_a_key_missing_and_extra_rows_are_at_the_end(self, tmp_path: Path) -> None:
        shorter = judge_csv(check(), evidence(tmp_path, "id,vendor,amount\n1,Northwind,10.00\n"))
        assert shorter.measured == 2
        assert "missing row 2; missing row 3" in shorter.evidence
        longer = judge_csv(check(), evidence(tmp_path, EXPECTED + "4,Tailspin,1\n"))
        assert longer.measured == 1
        assert longer.evidence.endswith("(in order, on id, vendor, amount): extra row 4")

    def test_only_the_first_five_are_listed(self, tmp_path: Path) -> None:
        expected = "id,amount\n" + "".join(f"{i},{i}\n" for i in range(100))
        produced = "id,amount\n" + "".join(f"{i},{i + 1}\n" for i in range(100))
        judged = judge_csv(check(key="id"), evidence(tmp_path, produced, expected))
        assert judged.measured == 100
        assert judged.evidence.count("row id=") == 5
        assert judged.evidence.endswith("; ...")
        assert len(judged.evidence) < 600

    def test_long_cells_are_cut_short(self, tmp_path: Path) -> None:
        judged = judge_csv(
            check(key="id"), evidence(tmp_path, f"id,note\n1,{'x' * 10_000}\n", "id,note\n1,y\n")
        )
        assert not judged.passed
        assert len(judged.evidence) < 300

    def test_a_large_artifact(self, tmp_path: Path) -> None:
        rows = "".join(f"{i},v{i},{i}.5\n" for i in range(20_000))
        table = "id,vendor,amount\n" + rows
        assert judge_csv(check(key="id"), evidence(tmp_path, table, table)).passed
        judged = judge_csv(check(key="id"), evidence(tmp_path, table + "x,y,z\n", table))
        assert judged.measured == 1


class TestBrokenEvidence:
    def test_artifact_not_produced(self, tmp_path: Path) -> None:
        judged = judge_csv(check(key="id"), evidence(tmp_path, None))
        assert not judged.passed
        assert judged.measured is None
        assert judged.expected == 0
        assert judged.evidence == (
            "artifact /out/tables/flagged.csv was not produced: step 'detect' ran but did not"
            " write it"
        )

    def test_step_never_ran(self, tmp_path: Path) -> None:
        judged = judge_csv(check(key="id"), evidence(tmp_path, None, ran=False))
        assert not judged.passed
        assert "never collected: no step that collects it ran" in judged.evidence

    def test_a_folder_artifact(self, tmp_path: Path) -> None:
        (tmp_path / "run/artifacts/out/tables/flagged.csv").mkdir(parents=True)
        judged = judge_csv(check(key="id"), evidence(tmp_path, None))
        assert not judged.passed
        assert "is a folder, not a CSV file" in judged.evidence

    def test_expected_file_missing(self, tmp_path: Path) -> None:
        judged = judge_csv(check(key="id"), evidence(tmp_path, EXPECTED, None))
        assert not judged.passed
        assert judged.evidence == "expected file expected/flagged.csv is not in the scenario folder"

    def test_a_column_missing_from_the_artifact(self, tmp_path: Path) -> None:
        judged = judge_csv(check(key="id"), evidence(tmp_path, "id,vendor\n1,Northwind\n"))
        assert not judged.passed
        assert judged.measured is None
        assert judged.evidence == (
            "artifact /out/tables/flagged.csv has no column 'amount' (its columns: id, vendor)"
        )

    def test_the_key_missing_from_the_artifact(self, tmp_path: Path) -> None:
        judged = judge_csv(check(key="id"), evidence(tmp_path, "ID,vendor,amount\n1,a,1\n"))
        assert not judged.passed
        assert "has no column 'id'" in judged.evidence

    def test_a_column_missing_from_the_expected_file(self, tmp_path: Path) -> None:
        judged = judge_csv(check(key="id", columns=["score"]), evidence(tmp_path, EXPECTED))
        assert not judged.passed
        assert judged.evidence == (
            "expected file expected/flagged.csv has no column 'score'"
            " (its columns: id, vendor, amount)"
        )

    @pytest.mark.parametrize("produced", ["", "\n\n", "\ufeff"])
    def test_empty_artifact(self, tmp_path: Path, produced: str) -> None:
        judged = judge_csv(check(key="id"), evidence(tmp_path, produced))
        assert not judged.passed
        assert judged.evidence == "artifact /out/tables/flagged.csv is empty: it has no header row"

    def test_not_utf8(self, tmp_path: Path) -> None:
        produced = "id,vendor,amount\n1,Northwind,10.00\n2,Caf\u00e9,20.50\n".encode("latin-1")
        judged = judge_csv(check(key="id"), evidence(tmp_path, produced))
        assert not judged.passed
        assert "artifact /out/tables/flagged.csv is not UTF-8 text" in judged.evidence

    def test_not_csv(self, tmp_path: Path) -> None:
        judged = judge_csv(
            check(key="id"), evidence(tmp_path, 'id,vendor,amount\n1,"' + "x" * 200_000 + '"\n')
        )
        assert not judged.passed
        assert "is not valid CSV at line" in judged.evidence
        assert len(judged.evidence) < 200
