"""report.html: what a prospect reads, self-contained, escaped and masked."""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape as html_escape
from html.parser import HTMLParser

import pytest

from poc_runner.report import render
from poc_runner.report.common import clean, improvement_text, number, show
from poc_runner.result import RunResult
from tests.unit.sample_results import (
    HOSTILE,
    SECRET,
    errored,
    failing,
    hostile,
    passing,
    register_secret,
)

# Every tag the report itself writes; anything else would have come from a value.
OWN_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "p", "h1", "h2", "h3", "section",
    "div", "small", "svg", "rect", "line", "text", "g", "blockquote", "span", "article", "ul",
    "li", "dl", "dt", "dd", "details", "summary", "pre", "figure", "figcaption", "i", "table",
    "thead", "tbody", "tr", "th", "td", "code", "footer", "br", "strong", "script",
}  # fmt: skip


class Page(HTMLParser):
    """The parsed report: its tags with their attributes, its visible text, its scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            del self._in[len(self._in) - 1 - self._in[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "script":
            self.scripts.append(data)
        elif not self._in or self._in[-1] != "style":
            self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def page(result: RunResult) -> Page:
    return Page(render(result, "html"))


class TestVerdictUpFront:
    @pytest.mark.parametrize(
        ("result", "word", "css"),
        [
            (passing(), "PASS", "v-pass"),
            (failing(), "FAIL", "v-fail"),
            (errored(), "ERROR", "v-error"),
        ],
    )
    def test_the_verdict_and_score_come_first_in_their_colour(
        self, result: RunResult, word: str, css: str
    ) -> None:
        html = render(result, "html")
        assert f'class="hero {css}"' in html
        words = Page(html).words
        assert words.index(word) < words.index("The job")
        assert f"{number(result.score)} / 100" in words
        assert "needs 80 to pass" in words

    def test_a_fail_says_why(self) -> None:
        words = page(failing()).words
        assert "score 25 is below 80; must-have not met: recall" in words

    def test_a_sandbox_error_is_not_blamed_on_the_product(self) -> None:
        words = page(errored()).words
        assert "No verdict: the test environment failed" in words
        assert "service 'db' exited with code 1 before it was healthy" in words


class TestTheJob:
    def test_statement_current_solution_and_prospect(self) -> None:
        words = page(passing()).words
        assert "When we close the month, we want duplicates caught before payment." in words
        assert "How it is done today: Two AP clerks cross-check invoices" in words
        assert "Proof of concept for Acme Manufacturing · manufacturing" in words

    def test_without_a_job_the_section_is_left_out(self) -> None:
        result = passing()
        result.job.statement = result.job.current_solution = None
        assert "The job" not in page(result).words


class TestStakeholders:
    def test_one_section_per_stakeholder_with_what_they_want(self) -> None:
        found = page(passing())
        headings = [t for t in found.text if t in ("AP clerk", "Controller")]
        assert headings == ["AP clerk", "Controller"]
        assert "Wants: Spend less time hunting duplicates" in found.words
        assert "Wants: No duplicate payment goes out" in found.words

    def test_each_criterion_shows_measured_expected_today_and_gain(self) -> None:
        words = page(passing()).words
        assert "✓ Met Title of recall must-have" in words
        assert "Measured 0.97 Expected >= 0.95 Today 0.6 1.6x better than today" in words
        assert "Measured 0.5 s Expected < 120.0 s Today 6h 43,200x better than today" in words

    def test_a_failed_criterion_is_marked_not_met(self) -> None:
        assert "✗ Not met Title of recall must-have" in page(failing()).words
        assert 'class="criterion c-fail"' in render(failing(), "html")

    def test_criteria_for_nobody_get_their_own_section(self) -> None:
        result = passing()
        result.criteria[1].stakeholders = []
        assert "Other criteria" in page(result).words

    def test_evidence_is_expandable(self) -> None:
        html = render(failing(), "html")
        assert re.search(
            r"<details><summary>Evidence</summary><pre>recall was 0.5: 4 of 8 duplicates flagged"
            r"</pre></details>",
            html,
        )


class TestTimelineAndReproducibility:
    def test_the_timeline_is_an_inline_svg_bar_per_entry(self) -> None:
        found = page(passing())
        svg = [attrs for attrs in found.all("svg") if attrs.get("class") == "timeline"]
        assert len(svg) == 1
        bars = [a for a in found.all("rect") if (a.get("class") or "").startswith("b-")]
        assert len(bars) == len(passing().timeline)
        assert {"step · detect", "phase · teardown", "service · app"} <= set(found.text)

    def test_bars_are_placed_in_time(self) -> None:
        bars = [a for a in page(passing()).all("rect") if (a.get("class") or "").startswith("b-")]
        starts = [float(a["x"] or 0) for a in bars]
        assert starts[0] < starts[1] < starts[2] < starts[5]

    def test_no_timeline_says_so(self) -> None:
        result = passing()
        result.timeline = []
        assert "No timeline was recorded." in page(result).words

    def test_environment_and_data_checksums(self) -> None:
        words = page(passing()).words
        assert "Data checksums (sha256 per item) invoices 6f1f8415" in words
        assert "sha256:" + "ab" * 32 in words
        assert "api version 1.41" in words
        assert "sandbox network isolated" in words


class TestSelfContained:
    def test_nothing_is_loaded_from_anywhere(self) -> None:
        html = render(hostile(), "html")
        found = Page(html)
        assert {tag for tag, _ in found.tags} <= OWN_TAGS
        for tag, attrs in found.tags:
            assert not {"src", "href", "srcset", "action", "xlink:href"} & attrs.keys(), tag
        assert "@import" not in html
        assert "url(" not in html

    def test_the_policy_forbids_every_request_and_allows_only_its_own_script(self) -> None:
        found = page(passing())
        (policy,) = [
            a["content"]
            for a in found.all("meta")
            if a.get("http-equiv") == "Content-Security-Policy"
        ]
        assert policy is not None
        assert policy.startswith("default-src 'none';")
        (script,) = found.scripts
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"script-src 'sha256-{digest}'" in policy

    def test_print_expands_evidence_and_keeps_criteria_whole(self) -> None:
        html = render(passing(), "html")
        media = html[html.index("@media print") :]
        assert "details::details-content{content-visibility:visible" in media
        assert ".criterion,.hero,.alert,figure{break-inside:avoid" in media
        assert "background:#fff !important" in media


class TestUntrustedValues:
    def test_markup_in_values_is_shown_as_text(self) -> None:
        html = render(hostile(), "html")
        found = Page(html)
        assert "<script>alert" not in html
        assert "<img" not in html
        assert len(found.scripts) == 1  # only the report's own
        assert (
            '<script>alert("x")</script><img src="http://example.invalid/pixel.png">' in found.words
        )
        assert not found.all("img") and not found.all("a") and not found.all("b")

    def test_characters_html_cannot_carry_are_replaced(self) -> None:
        html = render(hostile(), "html")
        assert "\x00" not in html and "\x1b" not in html and "\ud800" not in html
        html.encode("utf-8")  # no lone surrogate left to fail the write

    def test_secrets_are_masked_even_next_to_characters_that_get_escaped(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        register_secret(monkeypatch)
        html = render(hostile(), "html")
        assert SECRET not in html
        assert "the token was ***" in Page(html).words
        assert "a&amp;b***&lt;" in html

    def test_a_secret_made_of_characters_html_escapes_is_still_masked(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        awkward = "p&ss<w\"rd'42"
        register_secret(monkeypatch, awkward)
        result = passing()
        result.criteria[0].evidence = f"password={awkward}"
        result.job.prospect = awkward
        html = render(result, "html")
        assert awkward not in html
        assert html_escape(awkward) not in html
        assert "password=***" in Page(html).words

    def test_hostile_text_reads_as_typed(self) -> None:
        words = page(hostile()).words
        assert " ".join(clean(f"{HOSTILE} title").split()) in words


@pytest.mark.parametrize(
    ("factor", "text"),
    [
        (12.0, "12x better than today"),
        (1.62, "1.6x better than today"),
        (2.0, "2x better than today"),
        (234782.61, "234,783x better than today"),
        (1.001, "about the same as today"),
        (0.5, "2x worse than today"),
        (None, None),
        (0.0, None),
        (float("inf"), None),
    ],
)
def test_improvement_reads_as_times_better_or_worse(factor: float | None, text: str | None) -> None:
    assert improvement_text(factor) == text


@pytest.mark.parametrize(
    ("value", "check", "shown"),
    [
        (None, "json", "not measured"),
        (0.092, "duration", "0.092 s"),
        ("< 120.0", "duration", "< 120.0 s"),
        ("6h", "duration", "6h"),
        (3.0, "sql", "3"),
        (True, "http", "yes"),
        ("", "output", "(empty)"),
        ({"b": 1, "a": [1, 2]}, "csv", '{"a": [1, 2], "b": 1}'),
    ],
)
def test_values_read_naturally(value: object, check: str, shown: str) -> None:
    assert show(value, check) == shown


def test_a_hand_edited_timeline_still_draws() -> None:
    """`poc report` reads any result.json: NaN, negative and backwards times draw, or drop."""
    result = passing()
    result.timeline[0].start_s = -5.0
    result.timeline[1].end_s = 0.0  # ends before it starts
    result.timeline[2].end_s = float("nan")
    bars = [a for a in page(result).all("rect") if (a.get("class") or "").startswith("b-")]
    assert len(bars) == len(result.timeline) - 1
    assert all(float(a["width"] or 0) >= 2 and float(a["x"] or 0) >= 190 for a in bars)


@pytest.mark.parametrize(
    ("value", "text"), [(1e300, "1e+300"), (1e-9, "1e-09"), (12.5, "12.5"), (0.0, "0")]
)
def test_extreme_numbers_stay_short(value: float, text: str) -> None:
    assert number(value) == text
