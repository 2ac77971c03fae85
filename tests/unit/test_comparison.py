"""Two runs side by side: what differs in their inputs, each criterion's figures with the
change, as a self-contained page and as Markdown (`poc report --compare RUN_A RUN_B`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from poc_runner.cli import cli
from poc_runner.errors import ExitCode
from poc_runner.report import render_comparison
from poc_runner.report.comparison import input_changes, rows, what_differs
from poc_runner.report.figures import difference_text
from poc_runner.result import RunInputs
from tests.unit.sample_results import (
    SECRET,
    criterion,
    failing,
    hostile,
    passing,
    priced,
    register_secret,
)
from tests.unit.test_report_html import OWN_TAGS, Page
from tests.unit.test_report_markdown import tags


def poc(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


class TestWhatDiffers:
    def test_a_var_names_the_comparison(self) -> None:
        changes = input_changes(passing().inputs, failing().inputs)
        assert [c.name for c in changes if c.changed] == ["safety_days"]
        assert what_differs(changes) == "safety_days 7 → 14"

    def test_files_say_whether_they_changed_came_or_went(self) -> None:
        before = RunInputs({}, {"scenario.yaml": "1" * 64, "old.py": "2" * 64})
        after = RunInputs({}, {"scenario.yaml": "3" * 64, "new.py": "4" * 64})
        assert what_differs(input_changes(before, after)) == (
            "scenario.yaml changed; old.py removed; new.py added"
        )

    def test_identical_and_unrecorded_inputs(self) -> None:
        same = passing().inputs
        assert what_differs(input_changes(same, same)) == "the same variables and files"
        assert what_differs(input_changes(RunInputs(), RunInputs())) == "inputs not recorded"


class TestChange:
    @pytest.mark.parametrize(
        ("before", "after", "says"),
        [
            (
                {"measured": 4000.0, "expected": "<= 5000", "check": "metric", "unit": "EUR"},
                {"measured": 5686.35, "expected": "<= 5000", "check": "metric", "unit": "EUR"},
                "+1,686.35 EUR, worse",
            ),
            (
                {"measured": 18, "expected": 0, "check": "csv"},
                {"measured": 0, "expected": 0, "check": "csv"},
                "−18 rows, better",
            ),
            (
                {"measured": 0.9, "expected": ">= 0.95", "unit": "ratio"},
                {"measured": 0.9734, "expected": ">= 0.95", "unit": "ratio"},
                "+7.34 points, better",
            ),
            (
                {"measured": {"status": 200, "latency_ms": 40.0}, "expected": {"status": 200},
                 "check": "http"},
                {"measured": {"status": 200, "latency_ms": 17.2}, "expected": {"status": 200},
                 "check": "http"},
                "−22.8 ms",
            ),
            (
                {"measured": 3.0, "expected": "== 3", "check": "sql"},
                {"measured": 3.0, "expected": "== 3", "check": "sql"},
                "no change",
            ),
            ({"measured": 0, "expected": 0, "check": "exit_code"},
             {"measured": 1, "expected": 0, "check": "exit_code"}, None),
        ],
    )  # fmt: skip
    def test_a_figures_change_has_its_unit_and_its_direction(
        self, before: dict[str, object], after: dict[str, object], says: str | None
    ) -> None:
        assert difference_text(criterion("c", **before), criterion("c", **after)) == says

    def test_each_criterion_side_by_side(self) -> None:
        before, after = priced(), priced()
        after.criteria[2] = criterion(
            "within-budget", measured=4200.0, expected="<= 5000", check="metric", unit="EUR",
            stakeholders=["CFO"],
        )  # fmt: skip
        after.criteria.pop()
        found = {row.id: row.change for row in rows(before, after)}
        assert found == {
            "recall": "no change",
            "minutes-not-hours": "no change",
            "within-budget": "not met → met; −1,486.35 EUR, better",
            "matches-the-audit": "not in B",
        }

    def test_a_criterion_only_the_later_run_has(self) -> None:
        (row,) = [r for r in rows(passing(), priced()) if r.id == "within-budget"]
        assert (row.change, row.before, row.states[1]) == ("new in B", None, "not met")


class TestThePage:
    def test_it_names_both_runs_their_verdicts_and_what_differs(self) -> None:
        found = Page(render_comparison(passing(), failing(), "html"))
        words = found.words
        assert "A against B: Catch duplicate invoices before the payment run" in words
        assert "What differs: safety_days 7 → 14" in words
        assert "Run A PASS It did the job 100 / 100 · needs 80 invoice-dedupe · run" in words
        assert "20261123T005103Z-aaaaaa" in words and "20261124T005103Z-bbbbbb" in words
        assert "Run B FAIL Not there yet 25 / 100" in words

    def test_inputs_and_criteria_next_to_each_other(self) -> None:
        words = Page(render_comparison(passing(), failing(), "html")).words
        assert "var safety_days 7 14" in words
        assert (
            "Title of recall recall ✓ Met 0.97 needs ≥ 0.95 ✗ Not met 0.5 needs ≥ 0.95"
            " met → not met; −0.47" in words
        )

    def test_it_is_as_self_contained_as_the_report(self) -> None:
        html = render_comparison(hostile(), priced(), "html")
        found = Page(html)
        assert {tag for tag, _ in found.tags} <= OWN_TAGS
        for tag, attrs in found.tags:
            assert not {"src", "href", "srcset", "action", "xlink:href"} & attrs.keys(), tag
        (policy,) = [a["content"] for a in found.all("meta") if a.get("http-equiv")]
        assert policy is not None and policy.startswith("default-src 'none';")
        assert "<script>alert" not in html and "url(" not in html

    def test_secrets_are_masked(self, monkeypatch: pytest.MonkeyPatch) -> None:
        register_secret(monkeypatch)
        for fmt in ("html", "md"):
            assert SECRET not in render_comparison(hostile(), hostile(), fmt)  # type: ignore[arg-type]


class TestMarkdown:
    def test_for_a_pull_request(self) -> None:
        md = render_comparison(passing(), failing(), "md")
        assert md.startswith("# A against B: Catch duplicate invoices before the payment run\n")
        assert "**What differs:** safety\\_days 7 → 14" in md
        assert "| Verdict | ✅ **PASS** | ❌ **FAIL** |" in md
        assert "| ≠ | var `safety_days` | `7` | `14` |" in md
        assert "| ✅ `0.97`<br>needs `≥ 0.95` | ❌ `0.5`<br>needs `≥ 0.95` |" in md

    def test_no_value_becomes_markup(self) -> None:
        assert tags(render_comparison(hostile(), hostile(), "md")) <= {
            "h1", "h2", "p", "strong", "code", "table", "thead", "tbody", "tr", "th", "td", "br",
        }  # fmt: skip


class TestCommand:
    @pytest.fixture
    def runs(self, tmp_path: Path) -> tuple[Path, Path]:
        a, b = tmp_path / "a", tmp_path / "b"
        for folder, result in ((a, passing()), (b, failing())):
            folder.mkdir()
            result.write(folder)
        return a, b

    def test_html_by_default(self, runs: tuple[Path, Path]) -> None:
        a, b = runs
        result = poc("report", "--compare", str(a), str(b / "result.json"))
        assert result.exit_code == ExitCode.PASSED
        assert result.stdout == render_comparison(passing(), failing(), "html")

    def test_markdown_to_a_file(self, runs: tuple[Path, Path], tmp_path: Path) -> None:
        a, b = runs
        target = tmp_path / "compare.md"
        result = poc("report", "--compare", str(a), str(b), "--format", "md", "--out", str(target))
        assert result.exit_code == ExitCode.PASSED and f"wrote {target}" in result.stderr
        assert target.read_text() == render_comparison(passing(), failing(), "md")

    @pytest.mark.parametrize(
        "args",
        [
            ["report"],
            ["report", "RUN", "--compare", "A", "B"],
            ["report", "--compare", "A", "B", "--format", "junit"],
        ],
    )
    def test_one_run_or_two_and_a_format_a_comparison_has(self, args: list[str]) -> None:
        result = poc(*args)
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert "RUN_DIR" in result.stderr or "html (the default) or md" in result.stderr

    def test_a_missing_run_is_named(self, runs: tuple[Path, Path], tmp_path: Path) -> None:
        result = poc("report", "--compare", str(runs[0]), str(tmp_path / "nope"))
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert f"{tmp_path / 'nope'} does not exist" in result.stderr
