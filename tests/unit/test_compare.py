"""The spec's operators: numbers as numbers, text as text, and impossible comparisons explained."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from poc_runner.checks.compare import Incomparable, compare
from poc_runner.model.comparison import Operator


@pytest.mark.parametrize("op", get_args(Operator))
def test_every_operator_of_the_format_is_known(op: str) -> None:
    expected = [1, 2] if op == "between" else 1
    assert isinstance(compare(1, op, expected), bool)


@pytest.mark.parametrize(
    ("measured", "op", "expected", "result"),
    [
        # ==, != : numbers as numbers, whatever their spelling
        (3, "==", 3, True),
        (3, "==", 3.0, True),
        ("3", "==", 3, True),
        ("0.95", "==", 0.95, True),
        (" 0.950 ", "==", "0.95", True),
        ("1e3", "==", 1000, True),
        (12, "==", "12", True),
        (3, "==", 4, False),
        (3, "!=", 4, True),
        ("3.0", "!=", 3, False),
        (-1, "==", "-1", True),
        # text as text
        ("up", "==", "up", True),
        ("up", "==", "Up", False),
        ("up", "!=", "down", True),
        ("10", "==", "10.0", True),  # both numbers
        ("v10", "==", "v10.0", False),  # both text
        # booleans are not numbers; they compare as YAML spells them
        (True, "==", True, True),
        (True, "==", "true", True),
        (False, "==", "false", True),
        (True, "==", 1, False),
        (False, "==", 0, False),
        (True, "!=", False, True),
        # None (JSON null, a missing value) is empty text
        (None, "==", None, True),
        (None, "==", 0, False),
        (None, "!=", "x", True),
    ],
)
def test_equality(measured: Any, op: str, expected: Any, result: bool) -> None:
    assert compare(measured, op, expected) is result


@pytest.mark.parametrize(
    ("measured", "op", "expected", "result"),
    [
        (0.97, ">=", 0.95, True),
        (0.95, ">=", 0.95, True),
        (0.94, ">=", 0.95, False),
        ("0.97", ">=", "0.95", True),
        ("10", ">", "9", True),  # as numbers; as text "10" < "9"
        ("9", "<", "10", True),
        (10, ">", "9", True),
        ("100", "<=", 100, True),
        (101, "<=", "100", False),
        (1, "<", 2, True),
        (2, "<", 2, False),
        (2, "<=", 2, True),
        (3, ">", 2.5, True),
        (-5, "<", "-4.5", True),
        ("1e-3", "<", 0.01, True),
        (".5", ">", "0.4", True),
    ],
)
def test_ordering_compares_numbers(measured: Any, op: str, expected: Any, result: bool) -> None:
    assert compare(measured, op, expected) is result


@pytest.mark.parametrize(
    ("measured", "bounds", "result"),
    [
        (5, [1, 10], True),
        (1, [1, 10], True),  # bounds are inclusive
        (10, [1, 10], True),
        (0.99, [1, 10], False),
        (10.01, [1, 10], False),
        ("5", ["1", "10"], True),
        ("42.5", [1, 1000], True),
        (7, [7, 7], True),
    ],
)
def test_between(measured: Any, bounds: list[Any], result: bool) -> None:
    assert compare(measured, "between", bounds) is result


@pytest.mark.parametrize(
    ("measured", "expected", "result"),
    [
        ("all done, 12 rows", "done", True),
        ("all done", "Done", False),
        ("", "x", False),
        ("anything", "", True),
        ("found 12 duplicates", 12, True),  # the value is looked for as text
        (["a", "b"], "b", True),
        (["a", "b"], "c", False),
        (["ab"], "a", False),  # a list item must equal, not contain
        ([1, 2, 3], 2, True),
        ([1, 2, 3], "2", True),  # numbers as numbers inside lists too
        (["1.0"], 1, True),
        ([], "x", False),
        ([True, False], True, True),
        ([None], None, True),
        (None, "x", False),
        (42, "4", True),
    ],
)
def test_contains(measured: Any, expected: Any, result: bool) -> None:
    assert compare(measured, "contains", expected) is result


@pytest.mark.parametrize(("text", "expected"), [("ready: true", True), ("dry_run=false", False)])
def test_contains_spells_booleans_as_yaml_does(text: str, expected: bool) -> None:
    assert compare(text, "contains", expected) is True


@pytest.mark.parametrize(
    ("measured", "pattern", "result"),
    [
        ("saved 42.5 hours", r"saved \d+(\.\d+)? hours", True),
        ("saved many hours", r"saved \d+ hours", False),
        ("line one\nDONE", r"^DONE$", False),  # no re.MULTILINE: ^ is the start of the text
        ("line one\nDONE", r"(?m)^DONE$", True),
        ("abc", "b", True),  # a search, not a full match
        (12345, r"^\d{5}$", True),
        (True, "^true$", True),
        (None, "^$", True),
    ],
)
def test_matches(measured: Any, pattern: str, result: bool) -> None:
    assert compare(measured, "matches", pattern) is result


@pytest.mark.parametrize("op", [">=", ">", "<", "<="])
def test_ordering_on_text_is_incomparable_with_a_clear_message(op: str) -> None:
    with pytest.raises(Incomparable) as raised:
        compare("fast", op, 3)
    message = str(raised.value)
    assert "'fast'" in message
    assert "is not a number" in message
    assert f"`{op}`" in message


def test_ordering_against_a_text_value_is_incomparable() -> None:
    with pytest.raises(Incomparable, match=r"'high' is not a number, so `>=` cannot compare it"):
        compare(3, ">=", "high")


@pytest.mark.parametrize("measured", [True, False, None, [1], {"a": 1}])
def test_ordering_on_non_numbers_is_incomparable(measured: Any) -> None:
    with pytest.raises(Incomparable, match="is not a number"):
        compare(measured, ">", 0)


def test_between_on_text_is_incomparable() -> None:
    with pytest.raises(Incomparable, match="`between`"):
        compare("slow", "between", [1, 2])


def test_a_long_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(Incomparable) as raised:
        compare("x" * 10_000, "<", 1)
    assert len(str(raised.value)) < 120


def test_incomparable_is_a_value_error() -> None:
    assert issubclass(Incomparable, ValueError)


def test_an_unknown_operator_is_incomparable() -> None:
    with pytest.raises(Incomparable, match="unknown operator '=~'"):
        compare("a", "=~", "a")
