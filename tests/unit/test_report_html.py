"""report.html: what a prospect reads, self-contained, escaped and masked."""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape as html_escape
from html.parser import HTMLParser

import pytest

from poc_runner.report import render
from poc_runner.report.common import clean, show
from poc_runner.report.executive import executive_summary
from poc_runner.report.quantities import score_text
from poc_runner.result import RunResult
from tests.unit.sample_results import (
    HOSTILE,
    SECRET,
    criterion,
    errored,
    failing,
    hostile,
    passing,
    priced,
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
        assert f"{score_text(result.score)} / 100" in words
        assert "needs 80 to pass" in words

    def test_a_fail_says_why(self) -> None:
        words = page(failing()).words
        assert "score 25 is below 80; must-have not met: recall" in words

    def test_a_sandbox_error_is_not_blamed_on_the_product(self) -> None:
        words = page(errored()).words
        assert "No verdict: the test environment failed" in words
        assert "service 'db' exited with code 1 before it was healthy" in words


class TestExecutiveSummary:
    def test_it_follows_the_verdict_with_the_buyers_figures_in_their_units(self) -> None:
        words = page(priced()).words
        summary = words[words.index("Executive summary") : words.index("The job")]
        assert summary == (  # a fail leads with what failed, the must-have first
            "Executive summary Not met: Overpayments left in the payment run (must-have):"
            " 5,686.35 EUR where ≤ 5,000 EUR was needed; 8,000 EUR today. The flagged list"
            " matches the auditors' list: 18 differing rows where no differing rows was needed."
            " 2 of 4 criteria met; score 70.6 is below 80; must-have not met: within-budget."
            " Met: Catches the duplicates the auditors found: 97.3%, against 60% today (the rest:"
            " 40% → 2.66%, 15x fewer). The check takes minutes, not a working day: 0.27 s, against 4 h today. "
        )
        assert words.index("FAIL") < words.index("Executive summary")

    def test_without_headline_criteria_it_gives_the_must_haves_and_those_with_a_baseline(
        self,
    ) -> None:
        words = page(passing()).words
        summary = words[words.index("Executive summary") : words.index("The job")]
        assert "Title of recall: 0.97, against 0.6 today (1.6x better)." in summary
        assert "Title of minutes-not-hours: 0.5 s, against 6 h today." in summary

    def test_a_figure_met_without_a_baseline_says_what_was_needed_once(self) -> None:
        result = priced()
        result.criteria = [
            criterion(
                "saved", measured=21795.7, expected="> 0", check="metric", unit="EUR",
                headline=True, title="Overpayment avoided",
            ),
            criterion(
                "audit", measured=0, expected=0, check="csv", unit="invoices", headline=True,
                title="Matches the audit",
            ),
        ]  # fmt: skip
        summary = executive_summary(result)
        assert "Overpayment avoided: 21,795.70 EUR (needed > 0 EUR)." in summary
        assert summary.endswith("Matches the audit: no differing invoices.")

    def test_a_sandbox_error_gives_no_figure(self) -> None:
        words = page(errored()).words
        assert "The sandbox failed, so the product was not fairly judged" in words
        assert "Title of recall: not judged." in words


class TestUnits:
    def test_measured_expected_and_today_read_with_their_unit(self) -> None:
        words = page(priced()).words
        assert "Measured 97.3% Expected ≥ 95% Today 60% the rest: 40% → 2.66%, 15x fewer" in words
        assert "Measured 0.27 s Expected < 2 min Today 4 h 4 h → 0.27 s" in words
        assert "Measured 5,686.35 EUR Expected ≤ 5,000 EUR Today 8,000 EUR Evidence" in words
        assert "Measured 18 differing rows Expected no differing rows" in words
        assert "70.6 / 100" in words and "70.59" not in words


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
        assert "Measured 0.97 Expected ≥ 0.95 Today 0.6 1.6x better than today" in words
        assert "Measured 0.5 s Expected < 2 min Today 6 h 6 h → 0.5 s" in words

    def test_a_failed_criterion_is_marked_not_met(self) -> None:
        assert "✗ Not met Title of recall must-have" in page(failing()).words
        assert 'class="criterion c-not-met"' in render(failing(), "html")

    def test_a_sandbox_error_judges_no_criterion(self) -> None:
        found = page(errored())
        assert "– Not judged Title of recall must-have" in found.words
        assert "0 of 1 met, 1 not judged" in found.words
        assert "Not met" not in found.words
        assert 'class="criterion c-not-judged"' in render(errored(), "html")

    def test_a_criterion_not_met_shows_no_improvement(self) -> None:
        result = failing()
        result.criteria[0].improvement = 0.83  # as an older result.json may hold
        card = page(result).words.split("✗ Not met Title of recall")[1]
        assert "Today 0.6" in card and "than today" not in card.split("Evidence")[0]

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

    def test_the_runs_inputs_are_on_record(self) -> None:
        words = page(failing()).words
        assert (
            "Variables (as used, --var included) min_recall 0.95 safety_days 14"
            " VENDOR_API_TOKEN ***" in words
        )
        assert (
            f"Scenario files (sha256, in the scenario folder) scenario.yaml {'1a' * 32}"
            f" scoring/score.py {'2b' * 32}" in words
        )

    def test_a_result_from_before_inputs_were_kept_lists_no_files(self) -> None:
        result = failing()
        result.inputs.vars, result.inputs.files = {}, {}
        words = page(result).words
        assert "Variables (as used, --var included) none" in words
        assert "Scenario files" not in words


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
    ("value", "shown"),
    [
        (None, "not measured"),
        (3.0, "3"),
        (True, "yes"),
        ("", "(empty)"),
        ({"b": 1, "a": [1, 2]}, "b 1; a 1, 2"),
        ([], "(none)"),
    ],
)
def test_any_value_reads_as_words(value: object, shown: str) -> None:
    assert show(value) == shown


def test_a_hand_edited_timeline_still_draws() -> None:
    """`poc report` reads any result.json: NaN, negative and backwards times draw, or drop."""
    result = passing()
    result.timeline[0].start_s = -5.0
    result.timeline[1].end_s = 0.0  # ends before it starts
    result.timeline[2].end_s = float("nan")
    bars = [a for a in page(result).all("rect") if (a.get("class") or "").startswith("b-")]
    assert len(bars) == len(result.timeline) - 1
    assert all(float(a["width"] or 0) >= 2 and float(a["x"] or 0) >= 190 for a in bars)
