"""Evaluating the JSONPath subset criteria point with (`jsonpath.select`)."""

from __future__ import annotations

from typing import Any

import pytest

from poc_runner.jsonpath import has_wildcard, parse, select

DOCUMENT: dict[str, Any] = {
    "metrics": {"recall": 0.97, "precision": 0.9, "missing": None},
    "items": [
        {"vendor id": "V1", "total": 10},
        {"vendor id": "V2", "total": 20},
        {"vendor id": "V3"},
    ],
    "flags": [True, False],
    "empty": [],
}


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        ("$", [DOCUMENT]),
        ("$.metrics.recall", [0.97]),
        ("$['metrics']['precision']", [0.9]),
        ('$["metrics"].recall', [0.97]),
        ("$.metrics.missing", [None]),  # a null is a value, not "nothing"
        ("$.items[0]['vendor id']", ["V1"]),
        ("$.items[2]['vendor id']", ["V3"]),
        ("$.items[-1]['vendor id']", ["V3"]),
        ("$.items[-3].total", [10]),
        ("$.items[*].total", [10, 20]),  # a row without the key adds nothing
        ("$.items[*]['vendor id']", ["V1", "V2", "V3"]),
        ("$.metrics.*", [0.97, 0.9, None]),  # every value of an object, in document order
        ("$.metrics[*]", [0.97, 0.9, None]),
        ("$.flags[*]", [True, False]),
        ("$.empty[*]", []),
        ("$.*.recall", [0.97]),
    ],
)
def test_selects(path: str, selected: list[Any]) -> None:
    assert select(DOCUMENT, path) == selected


@pytest.mark.parametrize(
    "path",
    [
        "$.metrics.f1",  # no such key
        "$.items[3]",  # past the end
        "$.items[-4]",  # before the start
        "$.items.total",  # a key of a list
        "$.metrics[0]",  # an index of an object
        "$.metrics.recall.value",  # into a number
        "$.metrics.recall[*]",  # a wildcard over a number
        "$.items[0]['vendor id'][0]",  # an index of text is not taken
        "$.missing.anything",  # through a null
    ],
)
def test_a_path_that_does_not_fit_selects_nothing(path: str) -> None:
    assert select(DOCUMENT, path) == []


def test_accepts_parsed_segments() -> None:
    segments = parse("$.items[*].total")
    assert select(DOCUMENT, segments) == [10, 20]
    assert select(DOCUMENT, ()) == [DOCUMENT]


def test_top_level_list_and_scalars() -> None:
    assert select([1, [2, 3]], "$[1][-1]") == [3]
    assert select([1, [2, 3]], "$[*]") == [1, [2, 3]]
    assert select(42, "$") == [42]
    assert select(42, "$.a") == []
    assert select(None, "$[*]") == []


def test_keys_that_look_like_numbers_are_keys() -> None:
    assert select({"0": "key"}, "$['0']") == ["key"]
    assert select({"0": "key"}, "$[0]") == []
    assert select(["index"], "$['0']") == []


def test_booleans_are_not_indexes() -> None:
    assert select({"flags": [1, 2]}, "$.flags[1]") == [2]
    assert select({True: "x"}, "$[1]") == []


def test_nested_wildcards() -> None:
    grid = {"rows": [{"cells": [1, 2]}, {"cells": [3]}, {"cells": []}]}
    assert select(grid, "$.rows[*].cells[*]") == [1, 2, 3]
    assert select(grid, "$.rows[*].cells[-1]") == [2, 3]


def test_invalid_path_text_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="starts with \\$"):
        select(DOCUMENT, "metrics.recall")


@pytest.mark.parametrize(
    ("path", "wild"),
    [("$.a", False), ("$.a[0]", False), ("$.a[*]", True), ("$.*.b", True), ("$", False)],
)
def test_has_wildcard(path: str, wild: bool) -> None:
    assert has_wildcard(path) is wild
    assert has_wildcard(parse(path)) is wild
