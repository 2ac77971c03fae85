"""Comparisons (spec, "acceptance": `op` and `value`), checked against each other when the file
is loaded: `between` takes two numbers, `matches` a valid regex, `>=` a number, so a typo fails
`poc validate`, not the demo.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

from pydantic import ValidationInfo, field_validator

from poc_runner import units
from poc_runner.model.types import Strict, as_number, error, show, valid_regex

Operator = Literal["==", "!=", "<", "<=", ">", ">=", "between", "contains", "matches"]
NUMERIC_OPERATORS = frozenset({"==", "!=", "<", "<=", ">", ">=", "between"})
ORDERING_OPERATORS = frozenset({"<", "<=", ">", ">=", "between"})


class Comparison(Strict):
    """`op` and `value`, checked against each other."""

    operators: ClassVar[frozenset[str]] = frozenset(get_args(Operator))

    op: Operator
    value: Any

    @field_validator("op")
    @classmethod
    def _op_applies(cls, op: str) -> str:
        if op not in cls.operators:
            allowed = ", ".join(sorted(cls.operators))
            raise error("operator", f"{op!r} does not apply here; use one of {allowed}")
        return op

    @field_validator("value")
    @classmethod
    def _value_fits_op(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise error("value", "`between` takes a list of two bounds: [low, high]")
            low, high = (cls.quantity(bound) for bound in value)
            if low is not None and high is not None and low > high:
                raise error("value", f"the bounds are in the wrong order: {show(value)}")
        elif op in ORDERING_OPERATORS:
            cls.quantity(value)
        elif op == "matches":
            if not isinstance(value, str):
                raise error("value", "`matches` takes a regular expression as text")
            valid_regex(value)
        return value

    @classmethod
    def quantity(cls, value: Any) -> float | None:
        """The number a bound stands for; None for a secret not known until the run."""
        if pending_secret(value):
            return None
        number = as_number(value)
        if number is None:
            raise error(
                "value", f"{show(value)} is not a number, and this operator compares numbers"
            )
        return number


class NumericComparison(Comparison):
    operators = NUMERIC_OPERATORS


class DurationComparison(NumericComparison):
    """Bounds in seconds or Compose-style durations (`2m`)."""

    @classmethod
    def quantity(cls, value: Any) -> float | None:
        if pending_secret(value):
            return None
        try:
            return units.parse_duration(value)
        except ValueError as exc:
            raise error("duration", str(exc)) from None


def pending_secret(value: Any) -> bool:
    return isinstance(value, str) and "${" in value
