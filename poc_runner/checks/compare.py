"""The spec's operators, applied with types in mind: numbers compare as numbers (also when one
side came from a `${var}` string), text as text, and an impossible comparison is explained."""

from __future__ import annotations

import re
from typing import Any

from poc_runner.model.types import as_number

SYMBOLS = {"==", "!=", "<", "<=", ">", ">=", "between", "contains", "matches"}


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
        return re.search(_text(expected), _text(measured)) is not None
    raise Incomparable(f"unknown operator {op!r}")


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
