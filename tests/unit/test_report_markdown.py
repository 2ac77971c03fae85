"""report.md: short enough for an email, safe to render on GitHub.

Rendered with markdown-it-py (CommonMark with GitHub's tables), so the tests see what a reader
sees, and can tell that no value became a link, an image or a tag.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from poc_runner.report import render
from poc_runner.report.markdown import code, fenced, text
from poc_runner.result import RunResult
from tests.unit.sample_results import (
    SECRET,
    errored,
    failing,
    hostile,
    passing,
    priced,
    register_secret,
)


def to_html(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


class Tags(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def tags(markdown: str) -> set[str]:
    return {tag for tag, _ in Tags(to_html(markdown)).found}


class TestContent:
    @pytest.mark.parametrize(
        ("result", "first"),
        [
            (passing(), "# ✅ PASS: Catch duplicate invoices before the payment run"),
            (failing(), "# ❌ FAIL: Catch duplicate invoices before the payment run"),
            (errored(), "# ⚠️ ERROR: Catch duplicate invoices before the payment run"),
        ],
    )
    def test_verdict_and_score_open_the_report(self, result: RunResult, first: str) -> None:
        lines = render(result, "md").splitlines()
        assert lines[0] == first
        assert f"**Score: {result.score:g} / 100** (needs 80) · for Acme Manufacturing" in lines[2]

    def test_an_executive_summary_follows_the_verdict(self) -> None:
        md = render(priced(), "md")
        summary = md[md.index("## Executive summary") :].split("\n\n")[1]
        assert summary.startswith(
            "Not met: Overpayments left in the payment run (must-have): 5,686.35 EUR where"
            " ≤ 5,000 EUR was needed; 8,000 EUR today."
        )
        assert "2 of 4 criteria met; score 70.6 is below 80;" in summary
        assert summary.index("Met: ") > summary.index("score 70.6")
        assert "97.3%, against 60% today (the rest: 40% → 2.66%, 15x fewer)." in summary
        assert md.index("**Score: 70.6 / 100**") < md.index("## Executive summary")

    def test_figures_read_with_their_units(self) -> None:
        md = render(priced(), "md")
        assert "| `5,686.35 EUR` | `≤ 5,000 EUR` | `8,000 EUR` |  |" in md
        assert "| `0.27 s` | `< 2 min` | `4 h` | 4 h → 0.27 s |" in md
        assert "| `18 differing rows` | `no differing rows` |" in md

    def test_a_sandbox_error_lists_criteria_as_not_judged(self) -> None:
        md = render(errored(), "md")
        assert "## Criteria not judged (the sandbox failed)" in md
        assert "### ⚪ recall: Title of recall" in md
        assert "0 of 1 met, 1 not judged" in md
        assert "Failing criteria" not in md and "❌" not in md

    def test_a_table_per_stakeholder(self) -> None:
        md = render(passing(), "md")
        assert "## AP clerk\n\n*Wants: Spend less time hunting duplicates* · 1 of 1 met" in md
        assert "## Controller\n\n*Wants: No duplicate payment goes out* · 1 of 1 met" in md
        assert md.count("| | Criterion | Measured | Expected | Today | Compared with today |") == 2
        assert (
            "| ✅ | **Title of minutes-not-hours**<br>`minutes-not-hours` | `0.5 s` | `< 2 min`"
            " | `6 h` | 6 h → 0.5 s |"
        ) in md
        assert "**Title of recall** (must-have)" in md

    def test_the_tables_render_as_tables(self) -> None:
        html = to_html(render(passing(), "md"))
        assert html.count("<table>") == 2
        assert "<td><code>&lt; 2 min</code></td>" in html

    def test_failing_criteria_come_with_their_evidence(self) -> None:
        md = render(failing(), "md")
        section = md[md.index("## Failing criteria") :]
        assert "### ❌ recall: Title of recall" in section
        assert "Measured `0.5` · expected `≥ 0.95` · **must-have** · for Controller" in section
        assert "```text\nrecall was 0.5: 4 of 8 duplicates flagged\n```" in section

    def test_a_passing_run_lists_no_failures(self) -> None:
        assert "Failing criteria" not in render(passing(), "md")

    def test_a_sandbox_error_says_the_product_was_not_judged(self) -> None:
        md = render(errored(), "md")
        assert "## ⚠️ Sandbox error" in md
        assert "service 'db' exited with code 1 before it was healthy" in md

    def test_reproducibility_lists_images_and_data_checksums(self) -> None:
        md = render(passing(), "md")
        assert "- data sha256 invoices: `6f1f8415" in md
        assert "- image app: `sha256:abab" in md
        assert "api version `1.41`" in md
        assert "- var `safety_days` = `7`\n- var `VENDOR_API_TOKEN` = `***`" in md
        assert f"- file `scoring/score.py` sha256: `{'2b' * 32}`" in md


class TestUntrustedValues:
    def test_no_value_becomes_a_tag_a_link_or_an_image(self) -> None:
        found = tags(render(hostile(), "md"))
        assert found <= {
            "h1", "h2", "h3", "p", "strong", "em", "code", "pre", "blockquote", "table", "thead",
            "tbody", "tr", "th", "td", "ul", "li", "br",
        }  # fmt: skip

    def test_markup_reads_as_typed(self) -> None:
        html = to_html(render(hostile(), "md"))
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html

    def test_a_title_cannot_start_a_heading_or_a_list(self) -> None:
        md = render(hostile(), "md")
        assert "> \\# heading?" in md
        assert "**How it is done today:** 1\\. list?" in md
        assert text("1. one") == "1\\. one"
        assert text("- item") == "\\- item"

    def test_pipes_do_not_break_the_tables(self) -> None:
        """Every row of every table has as many cells as its header (the stakeholders' six,
        a failing-rows table's own)."""
        html = to_html(render(hostile(), "md"))
        tables = html.split("<table>")[1:]
        assert len(tables) >= 3
        for table in tables:
            head, *rows = table.split("<tr>")[1:]
            assert all(row.count("<td>") == head.count("<th>") for row in rows), table

    def test_backticks_cannot_close_a_code_span_or_a_fence(self) -> None:
        assert code("a ``b`` c") == "```a ``b`` c```"
        assert code("`edge`") == "`` `edge` ``"
        assert fenced("x\n````\ny").startswith("`````text\n")
        assert to_html(code("a ``b`` c")) == "<p><code>a ``b`` c</code></p>\n"

    def test_control_characters_are_replaced(self) -> None:
        md = render(hostile(), "md")
        assert "\x00" not in md and "\x1b" not in md and "\ud800" not in md

    def test_secrets_are_masked(self, monkeypatch: pytest.MonkeyPatch) -> None:
        register_secret(monkeypatch)
        md = render(hostile(), "md")
        assert SECRET not in md
        assert "the token was ***" in md

    def test_a_secret_of_characters_markdown_escapes_is_still_masked(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        awkward = "pa_ss*w|rd<42"
        register_secret(monkeypatch, awkward)
        result = failing()
        result.criteria[0].title = f"uses {awkward}"
        result.criteria[0].measured = awkward
        md = render(result, "md")
        assert awkward not in md
        assert "pa\\_ss\\*w\\|rd\\<42" not in md
        assert "pa_ss*w\\|rd<42" not in md
        assert "uses \\*\\*\\*" in md
