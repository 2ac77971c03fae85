"""The spec's operators, applied with types in mind: numbers compare as numbers (also when one
side came from a `${var}` string), text as text, and an impossible comparison is explained.

A scenario's regexes run on up to 2 MiB of output the product printed, and Python's `re` cannot
be stopped: one backtracking pattern (`(a+)+$`) would hang the run. Every user regex therefore
goes through `search`, which uses the `regex` package's time limit and turns an overrun into a
failed check that says so.
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

from poc_runner.model.types import as_number, show

REGEX_TIMEOUT = 2.0  # seconds one user regex may spend on one text


class Incomparable(ValueError):
    """The measured value cannot be compared this way (e.g. `>=` on text)."""


def compare(measured: Any, op: str, expected: Any) -> bool:
    if op == "between":
        low, high = (_number(bound, "between") for bound in expected)
        return low <= _number(measured, "between") <= high
    if op in ("<", "<=", ">", ">="):
        left, right = _number(measured, op), _number(expected, op)
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    if op in ("==", "!="):
        equal = _equal(measured, expected)
        return equal if op == "==" else not equal
    if op == "contains":
        if isinstance(measured, list):
            return any(_equal(item, expected) for item in measured)
        return _text(expected) in _text(measured)
    if op == "matches":
        return search(_text(expected), _text(measured)) is not None
    raise Incomparable(f"unknown operator {op!r}")


def expectation(op: str, value: Any) -> str:
    """What a comparison expects, as result.json records it and the reports read it back:
    `>= 0.95`, `== shipped`, `between 1 and 1000`."""
    if op == "between":
        low, high = value
        return f"between {_plain(low)} and {_plain(high)}"
    return f"{op} {_plain(value)}"


def _plain(value: Any) -> str:
    """A bound as written in YAML, in words: 120 rather than 120.0, true rather than True, a
    list item by item (`A-101, B-200`), never a Python structure."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(map(_plain, value))
    if isinstance(value, dict):
        return "; ".join(f"{key} {_plain(item)}" for key, item in value.items())
    return _text(value)


def _equal(measured: Any, expected: Any) -> bool:
    left, right = as_number(measured), as_number(expected)
    if left is not None and right is not None:
        return left == right
    return _text(measured) == _text(expected)


def _number(value: Any, op: str) -> float:
    number = as_number(value)
    if number is None:
        raise Incomparable(f"{_text(value)[:40]!r} is not a number, so `{op}` cannot compare it")
    return number


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class Found(NamedTuple):
    """A regex match, as plain text: the whole match and its groups."""

    text: str
    groups: tuple[str | None, ...]


def search(pattern: str, text: str, *, last: bool = False) -> Found | None:
    """The first (or, with `last`, the last) match of a scenario's regex in `text`, or None.

    Raises Incomparable when the regex is invalid or runs longer than REGEX_TIMEOUT in all.
    """
    import regex  # only scenarios with a regex pay for importing it

    try:
        if last:  # one time limit covers the whole scan
            kept = deque(regex.finditer(pattern, text, timeout=REGEX_TIMEOUT), maxlen=1)
            match = kept[0] if kept else None
        else:
            match = regex.search(pattern, text, timeout=REGEX_TIMEOUT)
    except TimeoutError:
        raise Incomparable(
            f"the regex {show(pattern)} took longer than {REGEX_TIMEOUT:g} s on"
            f" {len(text.encode())} bytes of output, so it was stopped"
        ) from None
    except regex.error as exc:
        raise Incomparable(f"{show(pattern)} is not a valid regular expression: {exc}") from None
    if match is None:
        return None
    return Found(str(match.group()), tuple(match.groups()))
