"""The table a `data` or `schema` check reads (spec, "Check types"), whatever holds it: a table
in a service's database, asked with the service's own client as `sql` is (checks/sql.py), or a
CSV file (a step's artifact, or a data item) read by DuckDB on this machine.

Why DuckDB for CSV: a prospect's extract runs to millions of rows, and a metric over it must
take seconds, not minutes, and little memory. DuckDB reads CSV in parallel at close to disk
speed, answers each metric in one SQL query (the same queries the databases answer, see
checks/dialects.py), keeps at most `MEMORY` of it in memory (aggregations spill to a temporary
folder beyond that), and is imported only when a CSV is measured. Python's csv module streams
too, but about ten times slower, and holding every key for `duplicate_count` costs it more
memory than DuckDB's bounded hash tables. The file is read as text: the header names the
columns, every cell is text (so `007` stays `007`), an empty cell is NULL; a BOM is skipped,
quotes and doubled quotes are read as CSV means them, and the delimiter is the header's (`,`,
`;`, tab or `|`). DuckDB never fetches anything: extensions are neither installed nor loaded.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poc_runner.checks.dialects import BY_CLIENT, DUCKDB, Dialect
from poc_runner.checks.evidence import Judgement, excerpt, missing
from poc_runner.checks.sql import NoClient, QueryFailed, ask, client_for

if TYPE_CHECKING:
    from poc_runner.backend import SandboxAccess
    from poc_runner.model.data import TableRef

MEMORY = "256MB"  # DuckDB's own limit; beyond it, it spills to a temporary folder
THREADS = 2
DELIMITERS = (",", ";", "\t", "|")
ROW = "__poc_row"  # the row number DuckDB gives each CSV row (1: the first after the header)


class Unreadable(Exception):
    """The table cannot be read; `judgement` says why (a failed check, never an error)."""

    def __init__(self, judgement: Judgement) -> None:
        super().__init__(judgement.evidence)
        self.judgement = judgement


@dataclass
class Column:
    name: str
    declared: str | None  # the database's type for it; None in a CSV file (all text)


@dataclass
class Table:
    """A table to ask questions of: what it is called in evidence, its columns, its dialect,
    and how to run a query (each row's values: text, numbers, or None for NULL)."""

    described: str  # "table ledger (psql in service 'db')", "artifact /out/matches.csv"
    source: str  # what the queries select FROM
    dialect: Dialect
    columns: list[Column]
    numbered: bool  # its rows have numbers (a CSV file's order)
    run: Any = field(repr=False)  # (sql) -> list[list[Any]]

    def query(self, sql: str) -> list[list[Any]]:
        rows: list[list[Any]] = self.run(sql)
        return rows

    def find(self, wanted: str) -> Column | None:
        """The column named `wanted`, or the only one named so in another case."""
        exact = [c for c in self.columns if c.name == wanted]
        if exact:
            return exact[0]
        folded = [c for c in self.columns if c.name.lower() == wanted.lower()]
        return folded[0] if len(folded) == 1 else None

    def column(self, wanted: str, expected: Any = None) -> Column:
        found = self.find(wanted)
        if found is None:
            names = excerpt(", ".join(c.name for c in self.columns) or "none", 160)
            raise Unreadable(
                missing(
                    f"{self.described} has no column {wanted!r} (its columns: {names})", expected
                )
            )
        return found


# --- a table in a service's database ------------------------------------------------------


def service_table(sandbox: SandboxAccess, ref: TableRef, expected: Any = None) -> Table:
    """The table `ref` names, found with the service's client (its name's case aside)."""

    def run(sql: str) -> list[list[Any]]:
        try:
            return list(ask(sandbox, ref.service, sql, expected).rows)
        except QueryFailed as exc:
            raise Unreadable(exc.judgement) from None

    schema, _, name = ref.name.rpartition(".")
    try:
        client = client_for(sandbox, ref.service)
    except NoClient as exc:
        raise Unreadable(missing(str(exc), expected)) from None
    where = f"{client} in service {ref.service!r}"
    dialect = BY_CLIENT[client]
    found = _columns(run, dialect, schema or None, name)
    if not found:
        raise Unreadable(missing(f"{where} found no table {ref.name!r} in its database", expected))
    (schema_found, table_found), columns = found
    source = ".".join(dialect.quote(part) for part in (schema_found, table_found) if part)
    return Table(f"table {ref.name} ({where})", source, dialect, columns, numbered=False, run=run)


def _columns(
    run: Any, dialect: Dialect, schema: str | None, name: str
) -> tuple[tuple[str | None, str], list[Column]] | None:
    """The table's actual schema and name, and its columns with their declared types."""
    if dialect.name == "sqlite":
        where = dialect.literal(name) + (f", {dialect.literal(schema)}" if schema else "")
        rows = run(f"SELECT name, type FROM pragma_table_info({where}) ORDER BY cid")
        columns = [Column(str(row[0]), str(row[1] or "")) for row in rows]
        return ((schema, name), columns) if columns else None
    if dialect.name == "mysql":
        kind = "column_type"
        in_schema = f"= {dialect.literal(schema)}" if schema else "= DATABASE()"
    else:
        kind = "data_type"
        in_schema = f"= {dialect.literal(schema)}" if schema else "= ANY (current_schemas(false))"
    rows = run(
        f"SELECT table_schema, table_name, column_name, {kind} FROM information_schema.columns"
        f" WHERE lower(table_name) = lower({dialect.literal(name)}) AND table_schema {in_schema}"
        " ORDER BY table_schema, ordinal_position"
    )
    if not rows:
        return None
    first = (str(rows[0][0]), str(rows[0][1]))
    columns = [Column(str(r[2]), str(r[3])) for r in rows if (str(r[0]), str(r[1])) == first]
    return first, columns


# --- a CSV file, read by DuckDB -----------------------------------------------------------


@contextmanager
def csv_table(path: Path, described: str, expected: Any = None) -> Iterator[Table]:
    """The CSV file at `path` as a table, for as long as the context lasts."""
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not there"
        raise Unreadable(missing(f"{described} is {kind}, not a CSV file", expected))
    header, delimiter = _header(path, described, expected)
    import duckdb

    with tempfile.TemporaryDirectory(prefix="poc-duckdb-") as scratch:
        link = Path(scratch) / "table.csv"  # a plain name: DuckDB would expand *, ? and [ ]
        link.symlink_to(path.resolve())
        connection = duckdb.connect(
            config={
                "threads": THREADS,
                "memory_limit": MEMORY,
                "temp_directory": str(Path(scratch) / "spill"),
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            }
        )
        connection.execute("SET enable_progress_bar = false")  # it would print over the run
        connection.execute("LOAD icu")  # built in: time zones, so a naive timestamp is UTC
        connection.execute("SET TimeZone = 'UTC'")
        columns = ", ".join(f"{DUCKDB.literal(name)}: 'VARCHAR'" for name in header)
        source = (
            f"read_csv({DUCKDB.literal(str(link))}, header = true, auto_detect = false,"
            f" delim = {DUCKDB.literal(delimiter)}, quote = '\"', escape = '\"',"
            f" columns = {{{columns}}})"
        )

        def run(sql: str) -> list[list[Any]]:
            try:
                return [list(row) for row in connection.execute(sql).fetchall()]
            except duckdb.Error as exc:
                raise Unreadable(missing(_duckdb_problem(described, exc), expected)) from None

        try:
            yield Table(
                described,
                source,
                DUCKDB,
                [Column(name, None) for name in header],
                numbered=True,
                run=run,
            )
        finally:
            connection.close()


def _header(path: Path, described: str, expected: Any) -> tuple[list[str], str]:
    """The header's column names and the file's delimiter (the one the header uses most)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            first = stream.readline()
            if not first.strip():
                raise Unreadable(missing(f"{described} is empty: it has no header row", expected))
            delimiter = max(DELIMITERS, key=first.count)
            stream.seek(0)
            header = next(csv.reader(stream, delimiter=delimiter))
    except UnicodeDecodeError:
        raise Unreadable(
            missing(f"{described} is not UTF-8 text; save it as UTF-8", expected)
        ) from None
    except csv.Error as exc:
        raise Unreadable(
            missing(f"{described} has a header that is not CSV: {exc}", expected)
        ) from None
    except OSError as exc:
        raise Unreadable(
            missing(f"{described} could not be read: {exc.strerror}", expected)
        ) from None
    names = [name.strip() for name in header]
    if any(not name for name in names):
        raise Unreadable(missing(f"{described} has a column with no name in its header", expected))
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise Unreadable(
            missing(
                f"{described} names a column twice in its header: {', '.join(repeated)}", expected
            )
        )
    return names, delimiter


def _duckdb_problem(described: str, exc: Exception) -> str:
    text = str(exc)
    if "unicode" in text.lower() or "utf-8" in text.lower():
        return f"{described} is not UTF-8 text; save it as UTF-8"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"{described} could not be read as CSV: {excerpt(first, 300)}"
