"""`data` checks (spec, "Check types"): the data team's "all our rows, none twice, nothing
missing", as one metric over a table, with the rows that fail it as evidence.

Each metric is one SQL query (checks/dialects.py says what missing, a number and a timestamp
mean), answered where the table is (checks/tables.py): the service's own database, or DuckDB
for a CSV file. Values are compared exactly as stored: `ACME-1` and `acme-1` are two keys.

- row_count: rows.
- missing_count, missing_percent: rows where any of `columns` is missing (NULL or blank);
  the percentage is of all rows.
- duplicate_count: rows sharing all of `columns` with an earlier row (a key seen three times
  counts two); rows missing one of them are not keys, so they are not counted.
- invalid_count, invalid_percent: rows where any of `columns` has a value (missing is not
  invalid) that `valid` refuses: a regex the whole value must match (in the engine's own
  regex dialect), a list of allowed values (spaces around a value aside; numbers compare as
  numbers), or a range [low, high] of numbers.
- distinct_count: different combinations of `columns`, rows missing one of them aside.
- min, max, sum, avg: over the column's numbers. A value that is not a number makes the
  figure unknowable: the check is not met, and those rows are shown.
- freshness: seconds from the newest timestamp in the column to now (this machine's clock);
  a value that is not a timestamp fails the check as above.

Evidence: the figure, how it was found, and up to SAMPLE_ROWS of the rows that make it (the
missing, duplicate, invalid or out-of-bound rows; with a CSV, their row numbers).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poc_runner.checks import sandboxed
from poc_runner.checks.artifacts import absence, local_path
from poc_runner.checks.compare import Incomparable, compare, expectation
from poc_runner.checks.evidence import Evidence, Judgement, missing
from poc_runner.checks.tables import ROW, Column, Table, Unreadable, csv_table, service_table
from poc_runner.model.data import COUNTS, DataCheck, Source
from poc_runner.model.types import as_number
from poc_runner.result import SAMPLE_ROWS, RowSample

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

SHOWN_COLUMNS = 8  # columns of a failing row kept: the check's own first
CELL_LIMIT = 80
_INLINE_ROWS = 3  # failing rows also named in the evidence's text


@dataclass
class Figure:
    """A metric's value, how it reads in words, and the rows behind it (a WHERE condition)."""

    value: float | None
    words: str
    failing: str | None = None  # rows that fail it, as a condition on the rows
    order: list[str] = field(default_factory=list)  # how to list them (duplicates: by key)
    unknowable: str | None = None  # why there is no figure to compare
    failing_count: float | None = None  # how many rows fail, when the figure already says
    when_failed: bool = False  # its rows say something only when the check is not met


def judge_data(check: DataCheck, evidence: Evidence) -> Judgement:
    expected = expectation(check.op, check.bound_seconds())
    try:
        with open_source(check, evidence, expected) as table:
            return _judge(check, table, expected)
    except Unreadable as exc:
        return exc.judgement


def open_source(check: Source, evidence: Evidence, expected: Any) -> AbstractContextManager[Table]:
    """The table a data or schema check reads, for as long as the context lasts; Unreadable
    (a failed judgement) when it cannot be read."""
    from contextlib import nullcontext

    if check.table is not None:
        if evidence.sandbox is None:
            raise Unreadable(sandboxed.not_running(expected))
        return nullcontext(service_table(evidence.sandbox, check.table, expected))
    if check.artifact is not None:
        path = local_path(evidence, check.artifact)
        if not path.exists():
            raise Unreadable(missing(absence(evidence, check.artifact), expected))
        return csv_table(path, f"artifact {check.artifact}", expected)
    return csv_table(_data_item(check, evidence, expected), f"data item {check.data!r}", expected)


def _data_item(check: Source, evidence: Evidence, expected: Any) -> Path:
    path = evidence.data_items.get(str(check.data))
    if path is None:
        raise Unreadable(missing(f"no data item named {check.data!r}", expected))
    return evidence.scenario_folder / path


def _judge(check: DataCheck, table: Table, expected: Any) -> Judgement:
    columns = [table.column(name, expected) for name in check.columns or []]
    figure = METRICS[check.metric](check, table, columns)
    if figure.value is not None and check.metric in COUNTS:
        figure.value = int(figure.value)
    if figure.unknowable is not None:
        rows = _sample(table, columns, figure)
        told = f"{table.described}: {figure.words}; {figure.unknowable}{_inline(rows)}"
        return Judgement(False, None, expected, told, rows)
    try:
        passed = compare(figure.value, check.op, check.bound_seconds())
    except Incomparable as exc:
        return Judgement(False, figure.value, expected, f"{table.described}: {exc}")
    rows = None if passed and figure.when_failed else _sample(table, columns, figure)
    told = f"{table.described}: {figure.words}{_inline(rows)}"
    return Judgement(passed, figure.value, expected, told, rows)


# --- the metrics --------------------------------------------------------------------------


def _row_count(check: DataCheck, table: Table, columns: list[Column]) -> Figure:
    count = _one(table, f"SELECT count(*) FROM {table.source}")
    return Figure(count, _many(count, "row"))


def _missing(check: DataCheck, table: Table, columns: list[Column]) -> Figure:
    condition = _any(table, columns, table.dialect.missing)
    total, count = _counts(table, condition)
    names = _names(columns)
    if check.metric == "missing_count":
        said = f"{_n(count)} of {_many(total, 'row')} miss {names}"
        return Figure(count, said, condition, failing_count=count)
    return _percent(count, total, f"miss {names}", condition)


def _invalid(check: DataCheck, table: Table, columns: list[Column]) -> Figure:
    valid = check.valid
    assert valid is not None
    dialect = table.dialect

    def refused(expr: str) -> str:
        return f"(NOT {dialect.missing(expr)} AND NOT {_valid(table, valid, expr)})"

    condition = _any(table, columns, refused)
    total, count = _counts(table, condition)
    what = f"have a value in {_names(columns)} that is not {_rule(valid)}"
    if check.metric == "invalid_count":
        said = f"{_n(count)} of {_many(total, 'row')} {what}"
        return Figure(count, said, condition, failing_count=count)
    return _percent(count, total, what, condition)


def _duplicates(check: DataCheck, table: Table, columns: list[Column]) -> Figure:
    """Rows beyond the first of each key; the failing rows are every row of a repeated key
    (the first too, so a reader sees what each repeats), found by key rather than by a window
    over the whole table."""
    keys = ", ".join(table.dialect.quote(c.name) for c in columns)
    present = f"NOT {_any(table, columns, table.dialect.missing)}"
    repeated = (
        f"SELECT {keys} FROM {table.source} WHERE {present} GROUP BY {keys} HAVING count(*) > 1"
    )
    row = table.query(
        "SELECT coalesce(sum(n - 1), 0), coalesce(sum(n), 0) FROM"
        f" (SELECT count(*) AS n FROM {table.source} WHERE {present} GROUP BY {keys}"
        " HAVING count(*) > 1) AS repeated"
    )[0]
    count, sharing = _number(row[0]) or 0, _number(row[1]) or 0
    return Figure(
        count,
        f"{_many(count, 'row')} {'repeats' if count == 1 else 'repeat'} the {_names(columns)}"
        " of an earlier row",
        f"{present} AND ({keys}) IN ({repeated})" if count else None,
        order=keys.split(", "),
        failing_count=sharing,
    )


def _distinct(check: DataCheck, table: Table, columns: list[Column]) -> Figure:
    keys = ", ".join(table.dialect.quote(c.name) for c in columns)
    present = f"NOT {_any(table, columns, table.dialect.missing)}"
    count = _one(
        table,
        f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM {table.source} WHERE {present})"
        " AS different",
    )
    return Figure(count, f"{_n(count)} different values of {_names(columns)}")


_AGGREGATE = {"min": "min", "max": "max", "sum": "sum", "avg": "avg"}
_WORDS = {"min": "the smallest", "max": "the largest", "sum": "the sum of", "avg": "the average"}
# The bounds every value must keep, for min and max: the rows outside them fail the check.
_EACH = {"min": (">=", ">", "between"), "max": ("<=", "<", "between")}


def _aggregate(check: DataCheck, table: Table, columns: list[Column]) -> Figure:
    column = columns[0]
    number = table.dialect.number(table.dialect.quote(column.name))
    name = f"{_WORDS[check.metric]} {column.name}"
    value, read = _over_values(table, column, number, _AGGREGATE[check.metric], "a number")
    if read.unknowable is not None:
        read.unknowable = f"so {name} is not known"
        return read
    if value is None:
        return Figure(None, f"{column.name} has no number", unknowable="so nothing is measured")
    failing = None
    if check.op in _EACH.get(check.metric, ()):
        bound = check.bound_seconds()
        if check.op == "between":
            low, high = (as_number(b) for b in bound)
            failing = f"NOT ({number} BETWEEN {low} AND {high})"
        elif as_number(bound) is not None:
            failing = f"NOT ({number} {check.op} {as_number(bound)})"
    return Figure(value, f"{name} is {_n(value)} (of {read.words})", failing)


def _freshness(check: DataCheck, table: Table, columns: list[Column]) -> Figure:
    column = columns[0]
    epoch = table.dialect.epoch(table.dialect.quote(column.name))
    newest, read = _over_values(table, column, epoch, "max", "a timestamp")
    if read.unknowable is not None:
        read.unknowable = "so the newest is not known"
        return read
    if newest is None:
        return Figure(None, f"{column.name} has no timestamp", unknowable="so its age is unknown")
    age = round(time.time() - newest, 3)
    return Figure(
        age,
        f"the newest {column.name} is {age:,.0f} s old",
        f"{epoch} >= {newest - 1}",  # the newest rows, within a second
        order=[f"{epoch} DESC"],
        when_failed=True,
    )


def _over_values(
    table: Table, column: Column, read: str, aggregate: str, kind: str
) -> tuple[float | None, Figure]:
    """`aggregate` over a column's values as `read` reads them (a number, a timestamp), and
    how many it read; a Figure that cannot be known when a value (missing aside) does not read
    as `kind`, with those values' rows as the failing ones."""
    missing = table.dialect.missing(table.dialect.quote(column.name))
    row = table.query(
        f"SELECT {aggregate}({read}), count({read}),"
        f" coalesce(sum(CASE WHEN NOT {missing} THEN 1 ELSE 0 END), 0) FROM {table.source}"
    )[0]
    value, counted, present = _number(row[0]), _number(row[1]) or 0, _number(row[2]) or 0
    if present > counted:
        unread = present - counted
        said = f"{_many(unread, 'value')} of {column.name} {_are(unread)} not {kind}"
        return None, Figure(None, said, f"NOT {missing} AND {read} IS NULL", unknowable="")
    return value, Figure(value, _many(counted, "value"))


METRICS: dict[str, Callable[[DataCheck, Table, list[Column]], Figure]] = {
    "row_count": _row_count,
    "missing_count": _missing,
    "missing_percent": _missing,
    "duplicate_count": _duplicates,
    "invalid_count": _invalid,
    "invalid_percent": _invalid,
    "distinct_count": _distinct,
    "min": _aggregate,
    "max": _aggregate,
    "sum": _aggregate,
    "avg": _aggregate,
    "freshness": _freshness,
}


# --- the rows behind a figure -------------------------------------------------------------


def _sample(table: Table, columns: list[Column], figure: Figure) -> RowSample | None:
    """The first rows that fail (up to SAMPLE_ROWS, in file order for a CSV), and how many
    do; None when none does."""
    if figure.failing is None:
        return None
    rows = numbered(table) if table.numbered else f"{table.source} AS t"
    total = figure.failing_count
    if total is None:
        total = _one(table, f"SELECT count(*) FROM {rows} WHERE {figure.failing}")
    if not total:
        return None
    shown = _shown_columns(table, columns)
    picked = ", ".join(table.dialect.quote(c.name) for c in shown)
    order = [*figure.order, *([ROW] if table.numbered else [])]
    by = f" ORDER BY {', '.join(order)}" if order else ""
    found = table.query(
        f"SELECT {ROW + ', ' if table.numbered else ''}{picked} FROM {rows}"
        f" WHERE {figure.failing}{by} LIMIT {SAMPLE_ROWS}"
    )
    numbers = [int(_number(row[0]) or 0) for row in found] if table.numbered else None
    cells = [[_cell(value) for value in (row[1:] if table.numbered else row)] for row in found]
    return RowSample([c.name for c in shown], cells, int(total), numbers)


def _shown_columns(table: Table, columns: list[Column]) -> list[Column]:
    rest = [c for c in table.columns if c not in columns]
    return [*columns, *rest][:SHOWN_COLUMNS]


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def _inline(rows: RowSample | None) -> str:
    """Which rows fail, in a few words for the text evidence (reports show them as a table):
    a CSV's row numbers, a table's first shown column."""
    if rows is None:
        return ""
    if rows.numbers:
        named = [f"{number:,}" for number in rows.numbers[:_INLINE_ROWS]]
        which = f"row{'s' if rows.total > 1 else ''} {', '.join(named)}"
    else:
        column = rows.columns[0]
        named = [_said(row[0]) for row in rows.rows[:_INLINE_ROWS]]
        which = f"{column} {', '.join(named)}"
    more = f", and {rows.total - len(named):,} more" if rows.total > len(named) else ""
    return f"; {which}{more}"


def _said(value: Any) -> str:
    if value is None:
        return "NULL"
    return repr(str(value)) if isinstance(value, str) else str(value)


# --- small pieces -------------------------------------------------------------------------


def _any(table: Table, columns: list[Column], test: Callable[[str], str]) -> str:
    return "(" + " OR ".join(test(table.dialect.quote(c.name)) for c in columns) + ")"


def _counts(table: Table, condition: str) -> tuple[float, float]:
    row = table.query(
        f"SELECT count(*), coalesce(sum(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"
        f" FROM {table.source}"
    )[0]
    return _number(row[0]) or 0.0, _number(row[1]) or 0.0


def _percent(count: float, total: float, what: str, condition: str) -> Figure:
    if not total:
        return Figure(None, "the table has no rows", unknowable="so there is no percentage")
    share = round(count / total * 100, 6)
    said = f"{_n(count)} of {_many(total, 'row')} ({_n(share)}%) {what}"
    return Figure(share, said, condition, failing_count=count)


def _valid(table: Table, valid: Any, expr: str) -> str:
    dialect = table.dialect
    if valid.regex is not None:
        return dialect.matches(expr, valid.regex)
    if valid.between is not None:
        low, high = (as_number(bound) for bound in valid.between)
        number = dialect.number(expr)
        return f"({number} IS NOT NULL AND {number} BETWEEN {low} AND {high})"
    numbers = [as_number(value) for value in valid.values]
    if all(number is not None for number in numbers):
        listed = ", ".join(repr(number) for number in numbers)
        number = dialect.number(expr)
        return f"({number} IS NOT NULL AND {number} IN ({listed}))"
    listed = ", ".join(dialect.literal(str(value).strip()) for value in valid.values)
    return f"(trim({dialect.text(expr)}) IN ({listed}))"


def _rule(valid: Any) -> str:
    if valid.regex is not None:
        return f"a match of {valid.regex!r}"
    if valid.between is not None:
        low, high = valid.between
        return f"a number from {low} to {high}"
    shown = ", ".join(
        f"{value:g}" if isinstance(value, float) else value for value in valid.values[:5]
    )
    return f"one of {shown}" + (", ..." if len(valid.values) > 5 else "")


def _one(table: Table, sql: str) -> float:
    rows = table.query(sql)
    return (_number(rows[0][0]) or 0.0) if rows else 0.0


def _number(value: Any) -> float | None:
    """A figure as a query returned it: a number (DuckDB), or text (a database's client)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    return as_number(str(value).strip())


def numbered(table: Table) -> str:
    """The table's rows with their numbers in file order (a CSV file's), as `n`."""
    return f"(SELECT row_number() OVER () AS {ROW}, t.* FROM {table.source} AS t) AS n"


def _n(value: float) -> str:
    """A count or figure for evidence: 3, 0.5, 1,234,567."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.6g}"


def _many(count: float, noun: str) -> str:
    """1 row, 2 rows."""
    return f"{_n(count)} {noun}" if count == 1 else f"{_n(count)} {noun}s"


def _are(count: float) -> str:
    return "is" if count == 1 else "are"


def _names(columns: list[Column]) -> str:
    return ", ".join(c.name for c in columns)
