"""How figures read: numbers with their unit, rounded for reading; times as a person says them;
each check type's own label; and improvements that never praise a failure."""

from __future__ import annotations

from typing import Any

import pytest

from poc_runner.report.figures import (
    baseline_text,
    expected_text,
    factor_words,
    improvement_text,
    measured_text,
    parse_bound,
)
from poc_runner.report.quantities import duration_text, quantity, readable, score_text
from tests.unit.sample_results import criterion


class TestNumbers:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (5686.35, "5,686"),
            (1234567.0, "1,234,567"),
            (0.2712345, "0.271"),
            (97.3412, "97.3"),
            (12.5, "12.5"),
            (0.0123456, "0.0123"),
            (-0.5, "-0.5"),
            (0.0, "0"),
            (1e300, "1e+300"),
            (1e-9, "1e-09"),
        ],
    )
    def test_to_their_meaningful_digits(self, value: float, text: str) -> None:
        assert readable(value) == text

    @pytest.mark.parametrize(("score", "text"), [(70.59, "70.6"), (100.0, "100"), (25.0, "25")])
    def test_a_score_to_one_decimal(self, score: float, text: str) -> None:
        assert score_text(score) == text

    @pytest.mark.parametrize(
        ("value", "unit", "text"),
        [
            (5686.35, "EUR", "5,686.35 EUR"),
            (5000, "EUR", "5,000 EUR"),
            (12.5, "€", "€12.50"),
            (1500.4, "JPY", "1,500 JPY"),
            (0.9734, "ratio", "97.3%"),
            (12.5, "%", "12.5%"),
            (18, "rows", "18 rows"),
            (17.24, "ms", "17.2 ms"),
            (90000, "ms", "1 min 30 s"),
            (4, "h", "4 h"),
            (2.5, "min", "2 min 30 s"),
            (3.14159, None, "3.14"),
        ],
    )
    def test_with_their_unit(self, value: float, unit: str | None, text: str) -> None:
        assert quantity(value, unit) == text

    @pytest.mark.parametrize(
        ("seconds", "text"),
        [
            (0.27, "0.27 s"),
            (0.0172, "17.2 ms"),
            (7.25, "7.25 s"),
            (75, "1 min 15 s"),
            (120, "2 min"),
            (5400, "1 h 30 min"),
            (21600, "6 h"),
            (0, "0 s"),
        ],
    )
    def test_times_as_a_clock_reads(self, seconds: float, text: str) -> None:
        assert duration_text(seconds) == text


class TestCloseToTheBound:
    def test_a_value_rounding_would_make_equal_to_its_bound_keeps_its_digits(self) -> None:
        near = criterion("recall", False, measured=0.9499, expected=">= 0.95", unit="ratio")
        assert (measured_text(near), expected_text(near)) == ("94.99%", "≥ 95%")

    def test_a_duration_just_under_its_bound(self) -> None:
        near = criterion("fast", measured=119.6, expected="< 120", check="duration")
        assert (measured_text(near), expected_text(near)) == ("1 min 59.6 s", "< 2 min")

    def test_an_exact_hit_reads_as_the_bound(self) -> None:
        hit = criterion("count", measured=42, expected="== 42", check="sql", unit="rows")
        assert (measured_text(hit), expected_text(hit)) == ("42 rows", "= 42 rows")


# What each check type records (checks/): the figures name what was measured.
EVERY_CHECK: list[tuple[str, str | None, Any, Any, str, str]] = [
    ("exit_code", None, 0, 0, "exit code 0", "exit code 0"),
    ("command", None, 1, 0, "exit code 1", "exit code 0"),
    ("csv", None, 18, 0, "18 differing rows", "no differing rows"),
    ("csv", None, 1, 0, "1 differing row", "no differing rows"),
    ("csv", "invoices", 0, 0, "no differing invoices", "no differing invoices"),
    ("duration", "s", 0.271, "< 120", "0.271 s", "< 2 min"),
    ("duration", None, 90.0, "between 60 and 7200", "1 min 30 s", "between 1 min and 2 h"),
    ("json", "ratio", 0.97, ">= 0.95", "97%", "≥ 95%"),
    ("json", None, [0.9, 0.95], ">= 0.8", "0.9, 0.95", "≥ 0.8"),
    ("json", None, "shipped", "== shipped", "shipped", "= shipped"),
    ("json", None, [1, 2], "contains 3", "1, 2", 'contains "3"'),
    ("metric", "EUR", 5686.35, "<= 5000", "5,686.35 EUR", "≤ 5,000 EUR"),
    ("metric", "ms", 12.34, "between [1, 50]", "12.3 ms", "between 1 ms and 50 ms"),
    ("sql", None, 42, "== 42", "42", "= 42"),
    ("sql", None, "x", "matches ^x$", "x", 'matches "^x$"'),
    (
        "output",
        None,
        "loaded\n12 rows",
        {"contains": "rejected 12", "not_contains": "Traceback"},
        '"loaded 12 rows"',
        'contains "rejected 12", does not contain "Traceback"',
    ),
    ("output", None, "", {"matches": "done$"}, "nothing printed", 'matches "done$"'),
    (
        "file",
        None,
        {"exists": True, "size": 2048, "sha256": "ab" * 32},
        {"exists": True, "size": "> 0", "sha256": "ab" * 32},
        "exists, 2,048 bytes, sha256 abababababab…",
        "exists, size > 0 bytes, sha256 abababababab…",
    ),
    ("file", None, {"exists": False}, {"exists": False}, "absent", "absent"),
    (
        "http",
        None,
        {"status": 200, "latency_ms": 17.2, "json": "shipped"},
        {"status": 200, "json": "$.status == shipped", "latency_ms": "< 200"},
        "status 200 in 17.2 ms, $.status = shipped",
        "status 200, $.status = shipped, < 200 ms",
    ),
    (
        "http",
        None,
        {"status": 404, "latency_ms": 3.1},
        {"status": "2xx", "body.contains": "ok"},
        "status 404 in 3.1 ms",
        'status 2xx, body contains "ok"',
    ),
]


@pytest.mark.parametrize(
    ("check", "unit", "measured", "expected", "measured_words", "expected_words"), EVERY_CHECK
)
def test_every_check_type_names_what_it_measured(
    check: str,
    unit: str | None,
    measured: Any,
    expected: Any,
    measured_words: str,
    expected_words: str,
) -> None:
    judged = criterion("c", measured=measured, expected=expected, check=check, unit=unit)
    assert measured_text(judged) == measured_words
    assert expected_text(judged) == expected_words


def test_nothing_measured_and_nothing_stated() -> None:
    judged = criterion("c", False, measured=None, expected=None)
    assert (measured_text(judged), expected_text(judged)) == ("not measured", "-")


@pytest.mark.parametrize(
    ("expected", "parsed"),
    [
        (">= 0.95", (">=", ["0.95"])),
        ("between 1 and 1000", ("between", ["1", "1000"])),
        ("between [1.0, 120.0]", ("between", ["1.0", "120.0"])),  # as results before 0.2 say
        ("between ['1', '9']", ("between", ["1", "9"])),
        ("contains a b", ("contains", ["a b"])),
        ("0", None),
        ("~ 3", None),
    ],
)
def test_bounds_are_read_back_from_result_json(
    expected: str, parsed: tuple[str, list[str]] | None
) -> None:
    assert parse_bound(expected) == parsed


class TestToday:
    @pytest.mark.parametrize(
        ("check", "unit", "baseline", "text"),
        [
            ("duration", None, "6h", "6 h"),
            ("duration", None, 5400, "1 h 30 min"),
            ("duration", None, "about six hours", "about six hours"),
            ("http", None, 90000, "1 min 30 s"),  # an http check's baseline is its latency
            ("metric", "ms", 90000, "1 min 30 s"),
            ("json", "ratio", 0.6, "60%"),
            ("metric", "EUR", 12000, "12,000 EUR"),
        ],
    )
    def test_the_baseline_reads_in_the_criterions_unit(
        self, check: str, unit: str | None, baseline: Any, text: str
    ) -> None:
        judged = criterion("c", check=check, unit=unit, baseline=baseline)
        assert baseline_text(judged) == text

    def test_no_baseline(self) -> None:
        assert baseline_text(criterion("c")) is None


class TestImprovement:
    def test_a_factor_reads_as_times_better(self) -> None:
        met = criterion("recall", baseline=0.6, improvement=1.62)
        assert improvement_text(met) == "1.6x better than today"
        assert factor_words(met) == "1.6x better"

    @pytest.mark.parametrize(
        ("unit", "baseline", "measured", "remainder", "text"),
        [
            ("%", 92, 99.7, "unmatched", "unmatched: 8% → 0.3%, 27x fewer"),
            ("ratio", 0.6, 0.97, None, "the rest: 40% → 3%, 13x fewer"),
            ("%", 92, 100, "unmatched", "unmatched: 8% → 0%, none left"),
            ("ratio", 0.99, 0.999, "missed", "missed: 1% → 0.1%, 10x fewer"),
        ],
    )
    def test_a_rate_reads_on_what_is_left_to_do(
        self, unit: str, baseline: float, measured: float, remainder: str | None, text: str
    ) -> None:
        """The buyer's figure: 92% matched today, 99.7% now, is 27 times fewer lines to chase
        (the rate itself grew 1.1x)."""
        met = criterion(
            "rate", measured=measured, baseline=baseline, unit=unit, remainder=remainder,
            improvement=round(measured / baseline, 2),
        )  # fmt: skip
        assert improvement_text(met) == text
        assert factor_words(met) == text

    def test_a_rate_whose_own_change_is_larger_reads_as_a_factor(self) -> None:
        """An error rate falling from 8% to 0.3%: the rate itself is 27x smaller, while what
        is left (92% to 99.7%) barely moved."""
        met = criterion(
            "errors", measured=0.3, expected="<= 1", baseline=8, unit="%", improvement=26.67
        )
        assert improvement_text(met) == "27x better than today"

    def test_a_rate_not_met_reads_no_improvement(self) -> None:
        failed = criterion("rate", False, measured=99.3, baseline=92, unit="%", improvement=None)
        assert improvement_text(failed) is None and factor_words(failed) is None

    @pytest.mark.parametrize(
        ("factor", "text"),
        [
            (12.0, "12x better than today"),
            (2.0, "2x better than today"),
            (100.0, "100x better than today"),
            (234782.61, "over 100x better than today"),
            (1.001, "about the same as today"),
            (0.5, "2x worse than today"),
            (0.001, "over 100x worse than today"),
        ],
    )
    def test_factors_above_100_read_over_100x(self, factor: float, text: str) -> None:
        assert improvement_text(criterion("c", baseline=3, improvement=factor)) == text

    def test_a_criterion_may_ask_for_larger_factors_as_they_are(self) -> None:
        exact = criterion("c", baseline=3, improvement=2500.0, max_factor=1e6)
        assert improvement_text(exact) == "2,500x better than today"
        capped = criterion("c", baseline=3, improvement=2500.0, max_factor=1000)
        assert improvement_text(capped) == "over 1,000x better than today"

    def test_a_duration_against_a_person_reads_as_their_clock(self) -> None:
        fast = criterion(
            "fast", measured=0.27, expected="< 60", check="duration", baseline="4h",
            improvement=53333.33,
        )  # fmt: skip
        assert improvement_text(fast) == "4 h → 0.27 s"
        assert factor_words(fast) is None

    def test_a_latency_reads_as_its_clock_too(self) -> None:
        lookup = criterion(
            "lookup", check="http", measured={"status": 200, "latency_ms": 17.2},
            expected={"latency_ms": "< 200"}, baseline=90000, improvement=5232.56,
        )  # fmt: skip
        assert improvement_text(lookup) == "1 min 30 s → 17.2 ms"

    def test_a_slower_time_says_so(self) -> None:
        slow = criterion(
            "slow", measured=300.0, expected="< 600", check="duration", baseline="2m",
            improvement=0.4,
        )  # fmt: skip
        assert improvement_text(slow) == "2 min → 5 min, slower than today"

    def test_no_improvement_on_a_criterion_not_met(self) -> None:
        """Even when an old result.json recorded one: a failure is never praised."""
        budget = criterion(
            "budget", False, measured=5686.35, expected="<= 5000", unit="EUR",
            baseline=8000, improvement=1.41,
        )  # fmt: skip
        assert improvement_text(budget) is None
        assert factor_words(budget) is None
        assert baseline_text(budget) == "8,000 EUR"  # today's figure still stands

    @pytest.mark.parametrize("factor", [None, 0.0, float("inf"), float("nan")])
    def test_no_meaningful_factor_no_text(self, factor: float | None) -> None:
        assert improvement_text(criterion("c", baseline=3, improvement=factor)) is None
