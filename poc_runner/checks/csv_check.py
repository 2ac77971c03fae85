"""`csv` checks: the table the product wrote against the one the prospect expects (spec, "Check
types").

Rows are paired by `key` (a column or a list of columns, compared as text) or, without a key,
by position. Each pair is compared on `columns` (default: every column of the expected file,
key columns aside): two numbers are equal within `tolerance` (absolute), anything else as text
with surrounding whitespace ignored. Columns are found by name, so their order may differ.

measured is the number of rows that differ (changed, missing or extra), expected is 0, and the
evidence names the first few differences. Files are read as UTF-8 (a BOM is fine) and streamed:
only the expected table is held in memory, and only when rows are paired by key, so a large
artifact costs time, not memory.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import TextIO

from poc_runner.checks.artifacts import absence, local_path
from poc_runner.checks.evidence import Evidence, Judgement, excerpt, missing
from poc_runner.model.checks import CsvCheck
from poc_runner.model.types import as_number

SHOWN = 5  # differences named in the evidence
_SLACK = 4 * sys.float_info.epsilon  # so 1.01 vs 1.00 is within a tolerance of 0.01

Row = list[str]
Key = tuple[str, ...]


class Unusable(ValueError):
    """A file that cannot be compared; the message names it and says why."""


@dataclass
class Table:
    """A CSV file being read: its header, then its rows, one at a time."""

    name: str
    header: list[str]
    rows: Iterator[Row]

    def index(self, column: str) -> int:
        if column not in self.header:
            shown = excerpt(", ".join(self.header), 120)
            raise Unusable(f"{self.name} has no column {column!r} (its columns: {shown})")
        return self.header.index(column)


@dataclass
class Differences:
    compared: int = 0
    changed: int = 0
    missing: int = 0
    extra: int = 0
    shown: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.changed + self.missing + self.extra

    def note_changed(self, label: str, cells: list[str]) -> None:
        self.changed += 1
        more = f", and {len(cells) - 3} more" if len(cells) > 3 else ""
        self._note(f"row {label}: {', '.join(cells[:3])}{more}")

    def note_missing(self, label: str) -> None:
        self.missing += 1
        self._note(f"missing row {label}")

    def note_extra(self, label: str) -> None:
        self.extra += 1
        self._note(f"extra row {label}")

    def _note(self, text: str) -> None:
        if len(self.shown) < SHOWN:
            self.shown.append(text)


@dataclass
class Plan:
    """Which cells identify a row and which are compared, by index in each file."""

    key: list[str]
    columns: list[str]
    tolerance: float
    expected_at: list[int]
    actual_at: list[int]
    expected_key_at: list[int]
    actual_key_at: list[int]


def judge_csv(check: CsvCheck, evidence: Evidence) -> Judgement:
    path = local_path(evidence, check.artifact)
    if not path.exists():
        return missing(absence(evidence, check.artifact), 0)
    if path.is_dir():
        return missing(f"artifact {check.artifact} is a folder, not a CSV file", 0)
    reference = evidence.scenario_folder / check.expected
    if not reference.is_file():
        return missing(f"expected file {check.expected} is not in the scenario folder", 0)
    where = f"artifact {check.artifact} against {check.expected}"
    try:
        with _open(path) as actual_file, _open(reference) as expected_file:
            actual = _table(actual_file, f"artifact {check.artifact}")
            expected = _table(expected_file, f"expected file {check.expected}")
            plan = _plan(check, expected, actual)
            found = _compare(plan, expected, actual)
    except Unusable as exc:
        return missing(str(exc), 0)
    except OSError as exc:
        return missing(f"{where}: could not read a file: {exc.strerror}", 0)
    return Judgement(found.rows == 0, found.rows, 0, f"{where}: {_summary(plan, found)}")


def _open(path: Path) -> TextIO:
    return path.open(encoding="utf-8-sig", newline="")


def _table(stream: TextIO, name: str) -> Table:
    rows = _rows(stream, name)
    header = next(rows, None)
    if header is None:
        raise Unusable(f"{name} is empty: it has no header row")
    return Table(name, [cell.strip() for cell in header], rows)


def _rows(stream: TextIO, name: str) -> Iterator[Row]:
    reader = csv.reader(stream)
    try:
        yield from (row for row in reader if row)
    except csv.Error as exc:
        raise Unusable(f"{name} is not valid CSV at line {reader.line_num}: {exc}") from None
    except UnicodeDecodeError:
        raise Unusable(f"{name} is not UTF-8 text; save it as UTF-8") from None


def _plan(check: CsvCheck, expected: Table, actual: Table) -> Plan:
    key = [check.key] if isinstance(check.key, str) else list(check.key or [])
    chosen = check.columns if check.columns is not None else expected.header
    columns = [column for column in dict.fromkeys(chosen) if column not in key]
    for column in [*key, *columns]:
        expected.index(column)
        actual.index(column)
    return Plan(
        key,
        columns,
        check.tolerance,
        [expected.index(c) for c in columns],
        [actual.index(c) for c in columns],
        [expected.index(c) for c in key],
        [actual.index(c) for c in key],
    )


def _compare(plan: Plan, expected: Table, actual: Table) -> Differences:
    found = Differences()
    if plan.key:
        _compare_by_key(plan, expected, actual, found)
    else:
        _compare_in_order(plan, expected, actual, found)
    return found


def _compare_by_key(plan: Plan, expected: Table, actual: Table, found: Differences) -> None:
    waiting: dict[Key, deque[Row]] = defaultdict(deque)  # a key may repeat: paired in order
    for row in expected.rows:
        waiting[_cells(row, plan.expected_key_at)].append(row)
        found.compared += 1
    for row in actual.rows:
        key = _cells(row, plan.actual_key_at)
        queue = waiting.get(key)
        if not queue:
            found.note_extra(_key_label(plan.key, key))
        elif differing := _differing(plan, queue.popleft(), row):
            found.note_changed(_key_label(plan.key, key), differing)
    for key, queue in waiting.items():
        for _ in queue:
            found.note_missing(_key_label(plan.key, key))


def _compare_in_order(plan: Plan, expected: Table, actual: Table, found: Differences) -> None:
    for number, (wanted, got) in enumerate(zip_longest(expected.rows, actual.rows), start=1):
        if got is None:
            found.note_missing(str(number))
        elif wanted is None:
            found.note_extra(str(number))
        elif differing := _differing(plan, wanted, got):
            found.note_changed(str(number), differing)
        found.compared += wanted is not None


def _differing(plan: Plan, wanted: Row, got: Row) -> list[str]:
    """The compared cells of a pair of rows that differ, described."""
    expected_cells = _cells(wanted, plan.expected_at)
    actual_cells = _cells(got, plan.actual_at)
    return [
        f"{column} {_show(cell)} (expected {_show(want)})"
        for column, want, cell in zip(plan.columns, expected_cells, actual_cells, strict=True)
        if not _same(want, cell, plan.tolerance)
    ]


def _cells(row: Row, at: list[int]) -> Key:
    width = len(row)
    return tuple([row[i].strip() if i < width else "" for i in at])


def _same(expected: str, actual: str, tolerance: float) -> bool:
    if expected == actual:
        return True
    want, got = as_number(expected), as_number(actual)
    if want is None or got is None:
        return expected == actual
    return abs(want - got) <= tolerance + _SLACK * max(abs(want), abs(got), tolerance)


def _key_label(columns: list[str], key: Key) -> str:
    return ", ".join(f"{column}={_show(value)}" for column, value in zip(columns, key, strict=True))


def _summary(plan: Plan, found: Differences) -> str:
    on = f"on {', '.join(plan.columns)}" if plan.columns else "on no column"
    within = f" within {plan.tolerance:g}" if plan.tolerance else ""
    paired = f"by {', '.join(plan.key)}" if plan.key else "in order"
    if not found.rows:
        return f"all {found.compared} expected rows match ({paired}, {on}{within})"
    counts = f"{found.changed} changed, {found.missing} missing, {found.extra} extra"
    listed = "; ".join(found.shown) + ("; ..." if found.rows > len(found.shown) else "")
    return (
        f"{found.rows} rows differ ({counts}) of {found.compared} expected"
        f" ({paired}, {on}{within}): {listed}"
    )


def _show(cell: str) -> str:
    return repr(excerpt(cell, 40))
