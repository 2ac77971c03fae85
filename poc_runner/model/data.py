"""The data team's checks (spec, "Check types": `data`, `schema`): metrics over a table, and the
columns it must and must not have.

The table is read from one source: a table in a service's database (`table`), a CSV file a step
collected (`artifact`), or a data item of the scenario (`data`). Which metric takes which
fields is checked here, so a criterion that cannot be measured fails `poc validate`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from poc_runner import units
from poc_runner.model.comparison import NumericComparison, pending_secret
from poc_runner.model.types import (
    ContainerPath,
    Pattern,
    Regex,
    ServiceName,
    Strict,
    Text,
    as_list,
    as_number,
    error,
    show,
)

Metric = Literal[
    "row_count",
    "missing_count",
    "missing_percent",
    "duplicate_count",
    "invalid_count",
    "invalid_percent",
    "distinct_count",
    "min",
    "max",
    "sum",
    "avg",
    "freshness",
]
ONE_COLUMN = frozenset({"min", "max", "sum", "avg", "freshness"})
INVALID = frozenset({"invalid_count", "invalid_percent"})
ColumnType = Literal["text", "integer", "number", "boolean", "date", "timestamp", "any"]

TableName = Annotated[
    str,
    Pattern(
        r"([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*",
        "table name",
        "a table's name, or schema.table (letters, digits, _ and $, not starting with a digit)",
    ),
]
Columns = Annotated[list[Text], BeforeValidator(as_list)]


class TableRef(Strict):
    """A table of a service's database, read with that service's own client (as `sql`)."""

    service: ServiceName
    name: TableName


class Source(Strict):
    """Exactly one of `table`, `artifact` (a CSV a step collected) or `data` (a data item's
    name, a CSV file)."""

    table: TableRef | None = None
    artifact: ContainerPath | None = None
    data: Text | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Source:
        given = [self.table, self.artifact, self.data]
        if sum(source is not None for source in given) != 1:
            raise error(
                "check",
                f"a {self.kind} check reads one table: give exactly one of `table: {{service,"
                " name}`, `artifact` (a CSV a step collects) or `data` (a data item's name)",
            )
        return self

    @property
    def kind(self) -> str:
        return str(getattr(self, "type", "data"))


class Validity(Strict):
    """What a valid value is, for `invalid_count`/`invalid_percent`: one of a regex (the whole
    value must match), a list of allowed values, or a range of numbers [low, high]."""

    regex: Regex | None = None
    values: Annotated[list[str | float], Field(min_length=1)] | None = None
    between: list[Any] | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> Validity:
        if sum(rule is not None for rule in (self.regex, self.values, self.between)) != 1:
            raise error("valid", "`valid` takes one of `regex`, `values` or `between`")
        if self.between is not None:
            bounds = [as_number(bound) for bound in self.between]
            if len(bounds) != 2 or None in bounds:
                raise error("valid", "`between` takes two numbers: [low, high]")
            low, high = bounds
            assert low is not None and high is not None
            if low > high:
                raise error("valid", f"the bounds are in the wrong order: {show(self.between)}")
        return self


class DataCheck(NumericComparison, Source):
    type: Literal["data"]
    metric: Metric
    columns: Columns | None = None
    valid: Validity | None = None

    @classmethod
    def quantity(cls, value: Any) -> float | None:
        """A number, or (for `freshness`, checked below) a duration such as 24h."""
        if pending_secret(value) or as_number(value) is not None:
            return super().quantity(value)
        try:
            return units.parse_duration(value)
        except ValueError:
            return super().quantity(value)  # its own error: not a number

    @model_validator(mode="after")
    def _fields_fit_the_metric(self) -> DataCheck:
        metric, columns = self.metric, self.columns or []
        if metric != "row_count" and not columns:
            raise error("columns", f"`{metric}` is measured on `columns`: name at least one")
        if metric == "row_count" and columns:
            raise error("columns", "`row_count` counts rows: leave `columns` out")
        if metric in ONE_COLUMN and len(columns) != 1:
            raise error("columns", f"`{metric}` is measured on one column: name exactly one")
        if (metric in INVALID) != (self.valid is not None):
            raise error(
                "valid",
                f"`{metric}` needs `valid` (regex, values or between)"
                if metric in INVALID
                else "`valid` only applies to `invalid_count` and `invalid_percent`",
            )
        if metric != "freshness" and not _numbers(self.op, self.value):
            raise error("value", f"`{metric}` is a number: compare it with numbers, not durations")
        return self

    def bound_seconds(self) -> Any:
        """`value` with durations (freshness: 24h) as seconds, as the comparison uses it."""
        if self.op == "between":
            return [_seconds(bound) for bound in self.value]
        return _seconds(self.value)


class SchemaCheck(Source):
    type: Literal["schema"]
    require: dict[Text, ColumnType] = Field(default_factory=dict)
    forbid: Columns = Field(default_factory=list)

    @model_validator(mode="after")
    def _something_to_check(self) -> SchemaCheck:
        if not self.require and not self.forbid:
            raise error("check", "a schema check needs `require` (column: type) or `forbid`")
        both = {name.lower() for name in self.require} & {name.lower() for name in self.forbid}
        if both:
            raise error("forbid", f"{', '.join(sorted(both))} is both required and forbidden")
        return self


# The figures a metric measures in a unit of its own: `unit` may only repeat it.
FIXED_UNIT = {
    "missing_percent": "a percentage",
    "invalid_percent": "a percentage",
    "freshness": "seconds",
}
_COUNTS = {"row_count", "missing_count", "duplicate_count", "invalid_count"}
COUNTS = frozenset({*_COUNTS, "distinct_count"})  # metrics whose figure is a whole number


def natural_unit(check: DataCheck) -> str | None:
    """The unit a metric's figure reads in when the criterion names none: % for a percentage,
    s for freshness, rows for a count of rows, values for distinct_count; the column's own
    (unknown) for min, max, sum and avg."""
    if check.metric in ("missing_percent", "invalid_percent"):
        return "%"
    if check.metric == "freshness":
        return "s"
    if check.metric in _COUNTS:
        return "rows"
    return "values" if check.metric == "distinct_count" else None


def _numbers(op: str, value: Any) -> bool:
    if op not in ("<", "<=", ">", ">=", "between", "==", "!="):
        return True
    bounds = value if op == "between" and isinstance(value, list) else [value]
    return all(pending_secret(bound) or as_number(bound) is not None for bound in bounds)


def _seconds(value: Any) -> Any:
    number = as_number(value)
    if number is not None or not isinstance(value, str):
        return value
    try:
        return units.parse_duration(value)
    except ValueError:
        return value
