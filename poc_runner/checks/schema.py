"""`schema` checks (spec, "Check types"): the columns a table must have, with their types, and
the ones it must not (a personal-data column that must not reach the output).

Column names are matched without regard to case (databases fold unquoted names), and a
forbidden column is found in any case: `SSN` is `ssn`.

A database table's types are its declared ones (information_schema, or sqlite's table_info):
`integer` is any integer type, `number` any numeric type (integers too), `text` any character
type, `boolean`, `date`, `timestamp` (with or without a zone; MySQL's datetime), `any` any. A CSV
file declares none, so a column has a type when every value in it (missing ones aside) reads
as one: `integer` 42, `number` 4.2 or 42, `boolean` true/false/yes/no/t/f/y/n/1/0, `date`
2026-11-30, `timestamp` ISO 8601 date and time; `text` and `any` hold anything. The first rows
whose values do not are the evidence.
"""

from __future__ import annotations

import re

from poc_runner.checks.data import SHOWN_COLUMNS, numbered, open_source
from poc_runner.checks.evidence import Evidence, Judgement
from poc_runner.checks.tables import ROW, Column, Table, Unreadable
from poc_runner.model.data import SchemaCheck
from poc_runner.result import SAMPLE_ROWS, RowSample

_FAMILIES = {
    "text": ("char", "varchar", "character", "text", "tinytext", "mediumtext", "longtext",
             "clob", "nchar", "nvarchar", "citext", "string", "name", "bpchar"),
    "integer": ("int", "integer", "int2", "int4", "int8", "bigint", "smallint", "tinyint",
                "mediumint", "serial", "bigserial", "smallserial"),
    "number": ("numeric", "decimal", "real", "float", "float4", "float8", "double", "money",
               "number"),
    "boolean": ("boolean", "bool"),
    "date": ("date",),
    "timestamp": ("timestamp", "timestamptz", "datetime"),
}  # fmt: skip
_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_BOOLEAN = ("true", "false", "t", "f", "yes", "no", "y", "n", "1", "0")


def judge_schema(check: SchemaCheck, evidence: Evidence) -> Judgement:
    expected = _expected(check)
    try:
        with open_source(check, evidence, expected) as table:
            return _judge(check, table, expected)
    except Unreadable as exc:
        return exc.judgement


def _judge(check: SchemaCheck, table: Table, expected: str) -> Judgement:
    problems: list[str] = []
    mistyped: list[tuple[Column, str]] = []
    for name, wanted in check.require.items():
        column = table.find(name) or _folded(table, name)
        if column is None:
            problems.append(f"no column {name}")
        elif wanted != "any" and column.declared is not None:
            has = declared_types(column.declared)
            if wanted not in has:
                problems.append(f"{column.name} is {column.declared}, not {wanted}")
        elif wanted not in ("any", "text"):
            mistyped.append((column, wanted))
    rows = None
    if mistyped:
        rows, said = _values(table, mistyped)
        problems += said
    for name in check.forbid:
        present = [c.name for c in table.columns if c.name.lower() == name.lower()]
        problems += [f"{found} is there (forbidden)" for found in present]
    shown = ", ".join(c.name for c in table.columns[:20])
    more = f" and {len(table.columns) - 20} more" if len(table.columns) > 20 else ""
    told = f"{table.described} has columns {shown}{more}"
    told += f": {'; '.join(problems)}" if problems else ": as required"
    return Judgement(not problems, problems, expected, told, rows)


def declared_types(declared: str) -> set[str]:
    """The schema types a declared column type satisfies (`number` holds integers too)."""
    text = declared.lower().strip()
    first = re.split(r"[\s(]", text, maxsplit=1)[0]
    if text.startswith("double precision"):
        first = "double"
    found = {kind for kind, names in _FAMILIES.items() if first in names}
    if not found:  # sqlite's own rules for a type name it does not know
        if "int" in first:
            found = {"integer"}
        elif any(part in first for part in ("char", "clob", "text")):
            found = {"text"}
        elif any(part in first for part in ("real", "floa", "doub")):
            found = {"number"}
    if text.startswith("tinyint(1)") or text == "bit(1)":
        found |= {"boolean"}
    if "integer" in found:
        found.add("number")
    return found | {"any"}


def _folded(table: Table, name: str) -> Column | None:
    return next((c for c in table.columns if c.name.lower() == name.lower()), None)


def _values(table: Table, mistyped: list[tuple[Column, str]]) -> tuple[RowSample | None, list[str]]:
    """CSV columns whose values must read as a type: which do not, and the first such rows."""
    dialect = table.dialect
    refusals, said = [], []
    for column, wanted in mistyped:
        expr = dialect.quote(column.name)
        refused = f"(NOT {dialect.missing(expr)} AND NOT {_reads_as(table, expr, wanted)})"
        count = table.query(
            f"SELECT coalesce(sum(CASE WHEN {refused} THEN 1 ELSE 0 END), 0) FROM {table.source}"
        )[0][0]
        if count:
            said.append(f"{column.name} has {_values_not(int(count))} {wanted}")
            refusals.append(refused)
    if not refusals:
        return None, said
    condition = " OR ".join(refusals)
    checked = [column for column, _ in mistyped]
    shown = [*checked, *(c for c in table.columns if c not in checked)][:SHOWN_COLUMNS]
    picked = ", ".join(dialect.quote(c.name) for c in shown)
    rows = numbered(table)
    total = table.query(f"SELECT count(*) FROM {rows} WHERE {condition}")[0][0]
    found = table.query(
        f"SELECT {ROW}, {picked} FROM {rows} WHERE {condition} ORDER BY {ROW} LIMIT {SAMPLE_ROWS}"
    )
    sample = RowSample(
        [c.name for c in shown],
        [list(row[1:]) for row in found],
        int(total),
        [int(row[0]) for row in found],
    )
    return sample, said


def _reads_as(table: Table, expr: str, wanted: str) -> str:
    """Whether a value reads as `wanted` (only a CSV file's columns are read so: DuckDB)."""
    dialect = table.dialect
    text = f"trim({dialect.text(expr)})"
    if wanted == "integer":
        return dialect.matches(text, "[-+]?[0-9]+")
    if wanted == "number":
        return f"({dialect.number(expr)} IS NOT NULL)"
    if wanted == "boolean":
        listed = ", ".join(f"'{word}'" for word in _BOOLEAN)
        return f"(lower({text}) IN ({listed}))"
    if wanted == "date":
        return f"({dialect.matches(text, _DATE)} AND TRY_CAST({text} AS DATE) IS NOT NULL)"
    return f"({dialect.epoch(text)} IS NOT NULL AND {dialect.matches(text, _DATE + '[T ].*')})"


def _values_not(count: int) -> str:
    return "1 value that is not" if count == 1 else f"{count:,} values that are not"


def _expected(check: SchemaCheck) -> str:
    parts = []
    if check.require:
        parts.append("columns " + ", ".join(f"{n} ({t})" for n, t in check.require.items()))
    if check.forbid:
        parts.append("none of " + ", ".join(check.forbid))
    return "; ".join(parts)


__all__ = ["declared_types", "judge_schema"]
