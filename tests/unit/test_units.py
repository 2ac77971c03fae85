"""Durations, memory sizes and JSONPath: the small languages inside scenario values."""

from __future__ import annotations

import pytest

from poc_runner import jsonpath
from poc_runner.units import parse_duration, parse_memory


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2m", 120),
        ("1s", 1),
        ("500ms", 0.5),
        ("1h30m", 5400),
        ("1m30s", 90),
        (90, 90),
        (1.5, 1.5),
        ("0s", 0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["2 minutes", "m", "", "-1s", True, None, [1], "1d", float("inf")])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512m", 512 * 1024**2),
        ("1g", 1024**3),
        ("1GiB", 1024**3),
        ("256MB", 256 * 1024**2),
        ("1.5g", 1536 * 1024**2),
        (1048576, 1048576),
        ("64k", 65536),
    ],
)
def test_memory(text: object, size: int) -> None:
    assert parse_memory(text) == size


@pytest.mark.parametrize("text", ["lots", "1t", "", False, "-1m"])
def test_bad_memory(text: object) -> None:
    with pytest.raises(ValueError, match="memory size"):
        parse_memory(text)


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        ("$", ()),
        ("$.metrics.recall", ("metrics", "recall")),
        ("$.items[0]['vendor id']", ("items", 0, "vendor id")),
        ('$["a.b"][-1]', ("a.b", -1)),
        ("$.rows[*].total", ("rows", None, "total")),
        ("$.*", (None,)),
        (r"$['it\'s']", ("it's",)),
    ],
)
def test_jsonpath(path: str, segments: tuple[object, ...]) -> None:
    assert jsonpath.parse(path) == segments


@pytest.mark.parametrize("path", ["metrics", "$.", "$..x", "$[", "$[abc]", "$.a b", "$['x]"])
def test_bad_jsonpath(path: str) -> None:
    with pytest.raises(ValueError):
        jsonpath.parse(path)
