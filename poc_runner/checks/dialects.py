"""The few SQL phrases that differ between the engines a `data` or `schema` check asks: the
database clients a `sql` check uses (PostgreSQL's psql, MariaDB/MySQL's client, sqlite3) and
DuckDB, which reads CSV files (checks/tables.py).

Every metric is one SQL query built from these phrases (checks/data.py), so "missing", "a
number" and "a timestamp" mean the same whatever holds the table:
- missing: NULL, or text that is empty once its surrounding spaces are trimmed;
- a number: a numeric value, or text that reads as one (`12`, `-0.5`, `1e3`), spaces aside;
- a timestamp: a date or time value, or ISO 8601 text (`2026-11-30`, `2026-11-30T09:00:00Z`),
  read as UTC when it names no zone.
"""

from __future__ import annotations

from dataclasses import dataclass

# A number as text, without a backslash (MySQL's literals would eat it).
NUMBER = "^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$"
_ISO_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}"


@dataclass(frozen=True)
class Dialect:
    name: str  # postgresql, mysql, sqlite, duckdb
    quote_char: str = '"'
    text_type: str = "TEXT"
    backslashes: bool = False  # string literals treat a backslash as an escape (MySQL)

    def quote(self, name: str) -> str:
        """An identifier, quoted so any name is read as written."""
        q = self.quote_char
        return f"{q}{name.replace(q, q + q)}{q}"

    def literal(self, text: str) -> str:
        if self.backslashes:
            text = text.replace("\\", "\\\\")
        return "'" + text.replace("'", "''") + "'"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS {self.text_type})"

    def missing(self, expr: str) -> str:
        return f"({expr} IS NULL OR trim({self.text(expr)}) = '')"

    def matches(self, expr: str, regex: str) -> str:
        """The whole value matches `regex` (the engine's own regex dialect)."""
        whole = self.literal(f"^({regex})$")
        if self.name == "postgresql":
            return f"({self.text(expr)} ~ {whole})"
        if self.name == "duckdb":
            return f"regexp_matches({self.text(expr)}, {whole})"
        return f"({self.text(expr)} REGEXP {whole})"

    def number(self, expr: str) -> str:
        """The value as a number, NULL when it is not one."""
        trimmed = f"trim({self.text(expr)})"
        if self.name == "mysql":
            cast = f"({trimmed} + 0e0)"
        elif self.name == "sqlite":
            cast = f"CAST({trimmed} AS REAL)"
        else:
            cast = f"CAST({trimmed} AS DOUBLE PRECISION)"
        numeric = f"CASE WHEN {self.matches(trimmed, NUMBER[1:-1])} THEN {cast} END"
        if self.name == "sqlite":  # a stored number is a number, whatever its declared type
            return (
                f"(CASE WHEN typeof({expr}) IN ('integer', 'real') THEN {expr} ELSE {numeric} END)"
            )
        return f"({numeric})"

    def epoch(self, expr: str) -> str:
        """Seconds since 1970 (UTC) of a timestamp value, NULL when it is not one."""
        if self.name == "duckdb":
            return f"epoch(TRY_CAST({expr} AS TIMESTAMPTZ))"
        if self.name == "sqlite":
            return (
                f"(CASE WHEN typeof({expr}) IN ('integer', 'real') THEN {expr}"
                f" ELSE CAST(strftime('%s', {expr}) AS REAL) END)"
            )
        text = self.text(expr)
        dated = self.matches(text, _ISO_DATE[1:] + ".*")
        if self.name == "mysql":
            return f"(CASE WHEN {dated} THEN UNIX_TIMESTAMP({expr}) END)"
        return f"(CASE WHEN {dated} THEN extract(epoch FROM CAST({text} AS TIMESTAMPTZ)) END)"


POSTGRESQL = Dialect("postgresql")
MYSQL = Dialect("mysql", quote_char="`", text_type="CHAR", backslashes=True)
SQLITE = Dialect("sqlite")
DUCKDB = Dialect("duckdb", text_type="VARCHAR")
BY_CLIENT = {"psql": POSTGRESQL, "mysql": MYSQL, "mariadb": MYSQL, "sqlite3": SQLITE}
