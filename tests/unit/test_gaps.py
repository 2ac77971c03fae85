"""The gap list (spec, "Gap list"): every criterion not met or close, with its stakeholders,
severity, measured, expected, unit, shortfall and evidence; as CSV, as JSON, and as a section
of report.html and report.md. Rendered from result.json alone."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from poc_runner.cli import cli
from poc_runner.report import render
from poc_runner.report.gaps import COLUMNS, gaps, shortfall
from poc_runner.result import Status
from tests.unit.sample_results import criterion, errored, gapped, passing


class TestList:
    def test_worst_first_with_the_spec_s_severities(self) -> None:
        found = [(gap.id, gap.severity, gap.status) for gap in gaps(gapped())]
        assert found == [
            ("every-line", "deal-breaker", "not_met"),  # a must-have not met
            ("right-first-time", "challenge", "close"),  # close, whatever its weight
            ("none-twice", "nice-to-have", "not_met"),  # weight 2: the median, not above it
            ("references", "nice-to-have", "not_met"),
        ]

    def test_a_weight_above_the_median_is_a_challenge(self) -> None:
        result = gapped()
        result.criteria[3].weight = 2.5  # the median of 3, 2, 2, 2.5, 0.5 is 2
        assert next(g for g in gaps(result) if g.id == "none-twice").severity == "challenge"

    def test_a_close_must_have_is_a_deal_breaker(self) -> None:
        result = gapped()
        result.criteria[1].must = True
        assert gaps(result)[1].severity == "deal-breaker"

    def test_a_run_whose_sandbox_failed_has_no_gaps(self) -> None:
        assert gaps(errored()) == []

    def test_a_run_that_met_everything_has_none(self) -> None:
        assert gaps(passing()) == []


class TestShortfall:
    @pytest.mark.parametrize(
        ("measured", "expected", "short"),
        [
            (99.2, ">= 99.5", 0.3),
            (5686.35, "<= 5000", 686.35),
            (248, "== 250", 2),
            (1200, "between 10 and 1000", 200),
            (3, "between 10 and 1000", 7),
            (7, "!= 7", None),
            ("shipped", "== delivered", None),
            (None, ">= 1", None),
        ],
    )
    def test_how_far_in_the_unit(self, measured: Any, expected: str, short: float | None) -> None:
        assert shortfall(criterion("c", False, measured=measured, expected=expected)) == short

    def test_an_http_check_falls_short_on_its_latency(self) -> None:
        slow = criterion(
            "c",
            False,
            check="http",
            measured={"status": 200, "latency_ms": 250.0},
            expected={"status": 200, "latency_ms": "< 200"},
        )
        assert shortfall(slow) == 50


class TestFormats:
    def test_csv(self) -> None:
        rows = list(csv.reader(io.StringIO(render(gapped(), "gaps"))))
        assert tuple(rows[0]) == COLUMNS
        close = dict(zip(COLUMNS, rows[2], strict=True))
        assert close == {
            "id": "right-first-time",
            "title": "Matches accepted without a correction",
            "stakeholders": "Controller",
            "severity": "challenge",
            "status": "close",
            "measured": "99.2",
            "expected": ">= 99.5",
            "unit": "%",
            "shortfall": "0.3",
            "evidence": "evidence of right-first-time",
        }

    def test_a_cell_a_spreadsheet_would_run_is_text(self) -> None:
        text = render(gapped(), "gaps")
        assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text

    def test_json(self) -> None:
        body = json.loads(render(gapped(), "gaps-json"))
        assert (body["scenario"], body["verdict"]) == ("invoice-dedupe", "fail")
        first = body["gaps"][0]
        assert first["id"] == "every-line" and first["stakeholders"] == ["Data team"]
        assert (first["measured"], first["shortfall"], first["unit"]) == (248, 2, "rows")

    def test_in_report_html(self) -> None:
        html = render(gapped(), "html")
        section = html[html.index('aria-label="Gap list"') :]
        assert section.index("every-line") < section.index("right-first-time")
        assert '<span class="severity s-deal">deal-breaker</span>' in section
        assert '<span class="close-tag">close</span>' in section
        assert "0.3%" in section  # short by, in the unit

    def test_in_report_md(self) -> None:
        markdown = render(gapped(), "md")
        section = markdown[markdown.index("## Gap list") :]
        assert "| 🔴 deal-breaker | **Every bank line is in the warehouse**" in section
        assert "| 🟠 challenge (close) |" in section

    def test_poc_report_writes_it(self, tmp_path: Path) -> None:
        from click.testing import CliRunner

        gapped().write(tmp_path)
        out = tmp_path / "gaps.csv"
        ran = CliRunner().invoke(
            cli, ["report", str(tmp_path), "--format", "gaps", "--out", str(out)]
        )
        assert ran.exit_code == 0, ran.output
        assert out.read_text().startswith(",".join(COLUMNS))


class TestCloseInReports:
    def test_amber_with_where_it_would_be_close(self) -> None:
        html = render(gapped(), "html")
        card = html[html.index('class="criterion c-close"') :]
        card = card[: card.index("</li>")]
        assert "◐ Close" in card and "<dt>Close at</dt><dd>≥ 99%</dd>" in card

    def test_counted_apart_in_the_summary(self) -> None:
        html = render(gapped(), "html")
        assert "1 of 5 criteria met, 1 close;" in html
        assert "Matches accepted without a correction: close but not met, 99.2%" in html

    def test_markdown_marks_it(self) -> None:
        markdown = render(gapped(), "md")
        assert "| 🟠 | **Matches accepted without a correction**" in markdown
        assert "close at `≥ 99%`" in markdown

    def test_junit_says_it_was_close(self) -> None:
        assert "close (within ≥ 99%) but not met: measured 99.2%" in render(gapped(), "junit")

    def test_the_terminal_says_so(self) -> None:
        from poc_runner.summary import summarize

        text = summarize(gapped(), "runs/x")
        assert "CLOSE  right-first-time: 99.2%, expected ≥ 99.5%, close at ≥ 99%" in text

    def test_status_decides_close_even_read_back(self, tmp_path: Path) -> None:
        from poc_runner.result import load_result

        gapped().write(tmp_path)
        assert load_result(tmp_path).criteria[1].status is Status.CLOSE


class TestFailingRows:
    def test_html_shows_them_under_the_criterion(self) -> None:
        html = render(gapped(), "html")
        card = html[html.index('<span class="c-title">Remittance texts present') :]
        card = card[: card.index("</li>")]
        assert "The first 2 of 16 rows that fail it" in card
        assert "<th>Row</th>" in card and "<td>75</td>" in card
        assert '<td class="muted">NULL</td>' in card and '<td class="muted">(empty)</td>' in card

    def test_markdown_shows_them_after_the_evidence(self) -> None:
        markdown = render(gapped(), "md")
        assert "The first 3 of 4 rows that fail it:" in markdown
        assert "| `line_id` | `amount` | `reference` |" in markdown
        assert "| `BL-7` | `10.00` | NULL |" in markdown

    def test_the_rate_met_reads_on_what_is_left(self) -> None:
        assert "unmatched: 8% → 0.4%, 20x fewer" in render(gapped(), "html")
