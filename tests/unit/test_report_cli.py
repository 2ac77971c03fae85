"""`poc report` and `poc history` as users and CI meet them, and the reports a run writes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from poc_runner.cli import cli
from poc_runner.errors import ExitCode
from poc_runner.history import record
from poc_runner.report import FILES, render, write_reports
from poc_runner.result import RunResult, load_result
from poc_runner.schema import result_schema
from tests.unit.conftest import write_scenario
from tests.unit.sample_results import errored, failing, hostile, passing


def poc(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runs" / "invoice-dedupe" / "20261124T005103Z-bbbbbb"
    folder.mkdir(parents=True)
    failing().write(folder)
    return folder


class TestResultRoundTrip:
    @pytest.mark.parametrize("make", [passing, failing, errored])
    def test_result_json_loads_back_into_the_same_result(
        self, tmp_path: Path, make: Callable[[], RunResult]
    ) -> None:
        result = make()
        result.write(tmp_path)
        assert load_result(tmp_path) == result
        assert load_result(tmp_path / "result.json") == result
        jsonschema.validate(json.loads((tmp_path / "result.json").read_text()), result_schema())

    def test_write_reports_puts_them_next_to_result_json(self, run_dir: Path) -> None:
        written = write_reports(run_dir, failing())
        assert sorted(p.name for p in written) == sorted(FILES.values())
        for fmt, name in FILES.items():
            assert (run_dir / name).read_text(encoding="utf-8") == render(failing(), fmt)
        assert not list(run_dir.glob(".*partial"))


class TestReportCommand:
    @pytest.mark.parametrize("fmt", ["html", "md", "junit", "json"])
    def test_each_format_is_rendered_from_result_json_alone(self, run_dir: Path, fmt: str) -> None:
        result = poc("report", str(run_dir), "--format", fmt)
        assert result.exit_code == ExitCode.PASSED
        assert result.stdout == render(load_result(run_dir), fmt)  # type: ignore[arg-type]

    def test_json_is_result_json_itself(self, run_dir: Path) -> None:
        result = poc("report", str(run_dir), "--format", "json")
        assert result.stdout == (run_dir / "result.json").read_text()

    def test_markdown_is_the_default(self, run_dir: Path) -> None:
        assert poc("report", str(run_dir)).stdout.startswith("# ❌ FAIL:")

    def test_the_file_itself_may_be_named(self, run_dir: Path) -> None:
        assert poc("report", str(run_dir / "result.json")).exit_code == ExitCode.PASSED

    def test_out_writes_a_file(self, run_dir: Path, tmp_path: Path) -> None:
        target = tmp_path / "for-the-prospect.html"
        result = poc("report", str(run_dir), "--format", "html", "--out", str(target))
        assert result.exit_code == ExitCode.PASSED
        assert result.stdout == ""
        assert f"wrote {target}" in result.stderr
        assert target.read_text().startswith("<!DOCTYPE html>")

    def test_a_folder_without_result_json_is_invalid_input(self, tmp_path: Path) -> None:
        result = poc("report", str(tmp_path))
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert f"error: {tmp_path / 'result.json'} does not exist" in result.stderr
        assert "A run folder is <out>/<scenario>/<UTC time>-<id>/" in result.stderr
        assert "Traceback" not in result.stderr

    @pytest.mark.parametrize(
        ("content", "says"),
        [
            ('{"scenario": "x"', "is not valid JSON (line 1, column 17"),
            (
                '{"scenario": "x", "run_id": "r"}',
                "is not a poc-runner result (schema_version 1.0):",
            ),
            (
                json.dumps({**json.loads(passing().to_json()), "score": 250}),
                "score: Input should be less than or equal to 100",
            ),
            ('["not", "an", "object"]', "is not a poc-runner result"),
        ],
    )
    def test_a_broken_result_json_is_invalid_input_naming_the_file(
        self, tmp_path: Path, content: str, says: str
    ) -> None:
        (tmp_path / "result.json").write_text(content)
        result = poc("report", str(tmp_path), "--format", "html")
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert result.stdout == ""
        message = result.stderr
        assert message.startswith(f"error: {tmp_path / 'result.json'} ")
        assert says in message
        assert message.count("\n") == 1  # one paragraph

    def test_hostile_results_render_through_the_command(self, tmp_path: Path) -> None:
        hostile(writable=True).write(tmp_path)
        for fmt in ("html", "md", "junit"):
            out = poc("report", str(tmp_path), "--format", fmt)
            assert out.exit_code == ExitCode.PASSED
            # in report.md markup is only ever inside code spans and fences, shown literally
            assert fmt == "md" or "<script>alert" not in out.stdout


class TestPdfWithoutChromium:
    """Where Chromium is not installed, a PDF is refused in one paragraph naming the Debian
    package (exit 3: the machine lacks a tool, neither the input nor the product is wrong)."""

    @pytest.fixture
    def no_chromium(self, tmp_path: Path) -> dict[str, str]:
        (tmp_path / "bin").mkdir()
        return {"PATH": str(tmp_path / "bin")}

    def test_poc_report_says_what_to_install(
        self, run_dir: Path, no_chromium: dict[str, str]
    ) -> None:
        result = poc("report", str(run_dir), "--format", "pdf", env=no_chromium)
        assert result.exit_code == ExitCode.SANDBOX_ERROR
        assert "a PDF is printed by Chromium, which is not installed here" in result.stderr
        assert "install the package `chromium` (apt-get install chromium)" in result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert not (run_dir / "report.pdf").exists()

    def test_poc_run_pdf_stops_before_any_sandbox_starts(
        self, tmp_path: Path, no_chromium: dict[str, str]
    ) -> None:
        scenario = write_scenario(tmp_path / "scenario")
        out = tmp_path / "runs"
        result = poc("run", str(scenario), "--pdf", "--out", str(out), env=no_chromium)
        assert result.exit_code == ExitCode.SANDBOX_ERROR
        assert "install the package `chromium`" in result.stderr
        assert not out.exists()


class TestHistoryCommand:
    @pytest.fixture
    def env(self, tmp_path: Path) -> dict[str, str]:
        database = tmp_path / "history.sqlite"
        for result in (passing(), failing(), errored()):
            record(result, tmp_path / result.run_id, database)
        return {"POC_HISTORY": str(database)}

    def test_lists_newest_first_with_trend(self, env: dict[str, str]) -> None:
        result = poc("history", env=env)
        assert result.exit_code == ExitCode.PASSED
        rows = [line.split()[:5] for line in result.stdout.splitlines()[1:]]
        assert rows == [
            ["20261125T005103Z-cccccc", "invoice-dedupe", "ERROR", "25", "-"],  # no trend
            ["20261124T005103Z-bbbbbb", "invoice-dedupe", "FAIL", "25", "↓"],
            ["20261123T005103Z-aaaaaa", "invoice-dedupe", "PASS", "100", "·"],
        ]

    def test_name_and_limit(self, env: dict[str, str]) -> None:
        assert (
            len(poc("history", "invoice-dedupe", "--limit", "1", env=env).stdout.splitlines()) == 2
        )
        assert "no runs" not in poc("history", "invoice-dedupe", env=env).stdout
        assert len(poc("history", "other", env=env).stdout.splitlines()) == 1

    def test_compare(self, env: dict[str, str]) -> None:
        result = poc(
            "history", "--compare", "20261123T005103Z-aaaaaa", "20261124T005103Z-bbbbbb", env=env
        )
        assert result.exit_code == ExitCode.PASSED
        assert "verdict   PASS -> FAIL" in result.stdout
        assert "! recall" in result.stdout and "passed -> failed" in result.stdout

    def test_compare_an_unknown_run_is_invalid_input(self, env: dict[str, str]) -> None:
        result = poc("history", "--compare", "nope", "20261124T005103Z-bbbbbb", env=env)
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert "run 'nope' is not in the run history" in result.stderr

    def test_an_empty_history(self, tmp_path: Path) -> None:
        result = poc("history", env={"POC_HISTORY": str(tmp_path / "none.sqlite")})
        assert result.exit_code == ExitCode.PASSED
        assert result.stdout.startswith("no runs recorded yet in")


def test_help_lists_the_commands_and_stays_light() -> None:
    """`poc --help` must not import the reports, SQLite or pydantic (bench: < 0.3 s)."""
    help_text = poc("--help").stdout
    assert "report" in help_text and "history" in help_text
    probe = (
        "import sys, poc_runner.cli;"
        "heavy = [m for m in ('poc_runner.report', 'poc_runner.history', 'sqlite3', 'pydantic')"
        " if m in sys.modules]; print(heavy)"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"
