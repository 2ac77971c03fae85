"""`data` and `schema` checks on tricky data (spec, "Check types"): NULLs, empty and blank
text, quoted commas and quotes, a line break inside a value, a BOM, CRLF line ends, keys that
differ only in case.

Every metric is measured twice on the same rows, and must say the same: in a CSV file (read by
DuckDB, as a CSV artifact or data item is) and in a SQLite table (read by the real sqlite3
client on this machine, behind the same seam a service's client is reached through). The
integration tests run the same checks against PostgreSQL and SQLite in a real sandbox.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from poc_runner.backend import Outcome
from poc_runner.checks.data import judge_data
from poc_runner.checks.evidence import Evidence, Judgement
from poc_runner.checks.schema import declared_types, judge_schema
from poc_runner.checks.sql import RECORD
from poc_runner.model.data import DataCheck, SchemaCheck
from poc_runner.model.scenario import Criterion
from poc_runner.model.services import Service
from poc_runner.sandbox.capture import Capture

HEADER = ["id", "vendor", "amount", "qty", "updated", "booked"]
ROWS: list[list[Any]] = [  # None: NULL in SQLite, an empty cell in the CSV file
    ["INV-1", "Acme, Inc.", "100.50", 1, "2026-11-30T09:00:00Z", "2026-11-30"],
    ["inv-1", "Acme, Inc.", "100.50", 2, "2026-11-29 08:00:00+01:00", "2026-11-30"],
    ["INV-1", None, "20", 3, "2026-11-28", ""],
    ["INV-2", "   ", "n/a", 4, "2026-11-27T12:30:00", "not a date"],
    [None, 'Globex "Intl"', "-5", 5, "2026-11-26", "2026-11-26"],
    ["INV-3", "Multi\nline", "7", 6, "2026-11-25", "2026-11-25"],
]
NEWEST = datetime.fromisoformat("2026-11-30T09:00:00+00:00").timestamp()


def csv_text() -> str:
    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text

    lines = [",".join(HEADER), *(",".join(cell(v) for v in row) for row in ROWS)]
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


class SqliteHere:
    """The checks' seam with the real sqlite3 client on this machine as the service's client."""

    def __init__(self, database: Path) -> None:
        env = {"SQLITE_DATABASE": str(database)}
        self.scenario = SimpleNamespace(services={"db": Service(image="x", environment=env)})
        self.queries: list[str] = []

    def exec(
        self, service: str, argv: list[str], timeout: float, environment: Any = None
    ) -> Outcome:
        if argv[0] == "/bin/sh":  # the look-up of the service's SQL client
            return _outcome(0, b"sqlite3\n")
        self.queries.append(argv[-1])
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
        return _outcome(done.returncode, done.stdout, done.stderr)


def _outcome(code: int, out: bytes, err: bytes = b"") -> Outcome:
    stdout, stderr = Capture(), Capture()
    stdout.write(out)
    stderr.write(err)
    return Outcome(code, False, 0.01, stdout, stderr)


needs_sqlite3 = pytest.mark.skipif(shutil.which("sqlite3") is None, reason="needs sqlite3")
Measure = Callable[..., Judgement]


@pytest.fixture(params=["csv", pytest.param("sqlite", marks=needs_sqlite3)])
def measure(request: pytest.FixtureRequest, tmp_path: Path) -> Measure:
    """Measure a data check (given its fields but the source) on the tricky rows."""
    if request.param == "csv":
        (tmp_path / "extract.csv").write_text(csv_text(), encoding="utf-8", newline="")
        evidence = Evidence({}, tmp_path / "run", tmp_path, None, {"extract": "extract.csv"})
        source: dict[str, Any] = {"data": "extract"}
    else:
        database = tmp_path / "app.db"
        with sqlite3.connect(database) as db:
            db.execute("create table extract (id, vendor, amount, qty integer, updated, booked)")
            db.executemany("insert into extract values (?, ?, ?, ?, ?, ?)", ROWS)
        evidence = Evidence({}, tmp_path / "run", tmp_path, SqliteHere(database))  # type: ignore[arg-type]
        source = {"table": {"service": "db", "name": "EXTRACT"}}  # its name's case aside

    def run(metric: str, op: str = "==", value: Any = 0, **fields: Any) -> Judgement:
        check = DataCheck.model_validate(
            {"type": "data", **source, "metric": metric, "op": op, "value": value, **fields}
        )
        return judge_data(check, evidence)

    run.engine = request.param  # type: ignore[attr-defined]
    return run


def numbers(judged: Judgement) -> list[int] | None:
    assert judged.rows is not None
    return judged.rows.numbers


class TestMetrics:
    def test_row_count_counts_a_value_with_a_line_break_as_one_row(self, measure: Measure) -> None:
        judged = measure("row_count", value=6)
        assert (judged.passed, judged.measured, judged.rows) == (True, 6, None)

    def test_missing_is_null_empty_or_blank(self, measure: Measure) -> None:
        judged = measure("missing_count", columns="vendor")
        assert (judged.passed, judged.measured) == (False, 2)
        assert judged.rows is not None and judged.rows.total == 2
        assert [row[0] for row in judged.rows.rows] == [None, "   "]  # NULL or empty, and blank
        if measure.engine == "csv":  # type: ignore[attr-defined]
            assert numbers(judged) == [3, 4]  # rows counted after the header, line break or not
        assert "2 of 6 rows miss vendor" in judged.evidence

    def test_missing_over_several_columns_counts_rows(self, measure: Measure) -> None:
        assert measure("missing_count", columns=["id", "vendor"]).measured == 3

    def test_missing_percent_is_of_all_rows(self, measure: Measure) -> None:
        judged = measure("missing_percent", "<=", 40, columns="vendor")
        assert judged.passed and judged.measured == pytest.approx(33.333333)

    def test_duplicates_are_exact_so_case_tells_keys_apart(self, measure: Measure) -> None:
        judged = measure("duplicate_count", columns="id")
        assert (judged.passed, judged.measured) == (False, 1)  # INV-1 twice; inv-1 is another
        assert judged.rows is not None
        assert [row[0] for row in judged.rows.rows] == ["INV-1", "INV-1"]  # both, by key
        assert judged.rows.total == 2
        if measure.engine == "csv":  # type: ignore[attr-defined]
            assert numbers(judged) == [1, 3]
        assert "1 row repeats the id of an earlier row" in judged.evidence

    def test_a_missing_key_is_no_duplicate(self, measure: Measure) -> None:
        judged = measure("duplicate_count", columns=["id", "amount"], value=0)
        assert judged.passed and judged.rows is None

    def test_distinct_leaves_missing_out(self, measure: Measure) -> None:
        assert measure("distinct_count", value=4, columns="id").passed

    def test_invalid_by_regex_ignores_missing_values(self, measure: Measure) -> None:
        judged = measure("invalid_count", columns="id", valid={"regex": r"INV-\d+"})
        assert (judged.measured, [row[0] for row in judged.rows.rows]) == (1, ["inv-1"])  # type: ignore[union-attr]

    def test_invalid_by_values_keeps_quoted_commas_and_quotes(self, measure: Measure) -> None:
        judged = measure(
            "invalid_count", columns="vendor", valid={"values": ["Acme, Inc.", 'Globex "Intl"']}
        )
        assert judged.measured == 1  # the line break's row; blank and NULL ones are missing
        assert judged.rows is not None and judged.rows.rows[0][0] == "Multi\nline"

    def test_invalid_percent_by_range_refuses_what_is_not_a_number(self, measure: Measure) -> None:
        judged = measure(
            "invalid_percent", "<=", 10, columns="amount", valid={"between": [0, 1000]}
        )
        assert judged.measured == pytest.approx(33.333333)  # n/a and -5
        assert judged.rows is not None
        assert sorted(row[0] for row in judged.rows.rows) == ["-5", "n/a"]

    @pytest.mark.parametrize(
        ("metric", "figure"), [("min", 1), ("max", 6), ("sum", 21), ("avg", 3.5)]
    )
    def test_aggregates_over_numbers(self, measure: Measure, metric: str, figure: float) -> None:
        judged = measure(metric, "==", figure, columns="qty")
        assert judged.passed and judged.measured == figure

    def test_the_rows_outside_a_minimum_are_shown(self, measure: Measure) -> None:
        judged = measure("min", ">=", 3, columns="qty")
        assert not judged.passed and judged.measured == 1
        assert judged.rows is not None and [int(r[0]) for r in judged.rows.rows] == [1, 2]

    def test_a_value_that_is_not_a_number_leaves_the_figure_unknown(self, measure: Measure) -> None:
        judged = measure("min", ">=", -100, columns="amount")
        assert (judged.passed, judged.measured) == (False, None)
        assert "1 value of amount is not a number" in judged.evidence
        assert judged.rows is not None and judged.rows.rows[0][0] == "n/a"

    def test_freshness_reads_zones_and_plain_dates(self, measure: Measure) -> None:
        started = time.time()
        judged = measure("freshness", "<=", "1000000h", columns="updated")
        assert judged.passed and judged.rows is None  # met: no row to show
        assert started - NEWEST <= judged.measured <= time.time() - NEWEST + 1

    def test_stale_data_shows_its_newest_row(self, measure: Measure) -> None:
        judged = measure("freshness", "<=", "1h", columns="updated")
        assert not judged.passed
        assert judged.rows is not None and judged.rows.rows[0][0] == "2026-11-30T09:00:00Z"

    def test_a_value_that_is_not_a_timestamp_fails_freshness(self, measure: Measure) -> None:
        judged = measure("freshness", "<=", "1000000h", columns="booked")
        assert (judged.passed, judged.measured) == (False, None)
        assert judged.rows is not None and judged.rows.rows[0][0] == "not a date"

    def test_columns_are_found_whatever_their_case(self, measure: Measure) -> None:
        assert measure("missing_count", value=2, columns="VENDOR").passed

    def test_a_column_that_is_not_there_fails_naming_those_that_are(self, measure: Measure) -> None:
        judged = measure("missing_count", columns="iban")
        assert not judged.passed and judged.measured is None
        assert "no column 'iban'" in judged.evidence and "vendor" in judged.evidence


class TestCsvFiles:
    def evidence(self, tmp_path: Path, content: bytes) -> Evidence:
        (tmp_path / "f.csv").write_bytes(content)
        return Evidence({}, tmp_path / "run", tmp_path, None, {"f": "f.csv"})

    def judge(self, evidence: Evidence, metric: str = "row_count", **fields: Any) -> Judgement:
        fields = {"op": "==", "value": 0, **fields}
        return judge_data(
            DataCheck.model_validate({"type": "data", "data": "f", "metric": metric, **fields}),
            evidence,
        )

    def test_the_delimiter_is_the_headers(self, tmp_path: Path) -> None:
        evidence = self.evidence(tmp_path, b"id;amount\n1;2,5\n2;\n")
        judged = self.judge(evidence, "missing_count", columns="amount", value=1)
        assert judged.passed

    def test_a_file_that_is_not_utf8_says_so(self, tmp_path: Path) -> None:
        judged = self.judge(self.evidence(tmp_path, b"id,name\n1,M\xfcller\n"))
        assert "not UTF-8" in judged.evidence and not judged.passed

    def test_a_ragged_row_fails_with_the_reader_s_words(self, tmp_path: Path) -> None:
        judged = self.judge(self.evidence(tmp_path, b"id,name\n1,a\n2,b,extra\n"))
        assert not judged.passed and "could not be read as CSV" in judged.evidence

    def test_a_header_naming_a_column_twice_is_refused(self, tmp_path: Path) -> None:
        judged = self.judge(self.evidence(tmp_path, b"id,id\n1,2\n"))
        assert "names a column twice" in judged.evidence

    def test_an_empty_file_has_no_header(self, tmp_path: Path) -> None:
        assert "no header row" in self.judge(self.evidence(tmp_path, b"")).evidence

    def test_a_file_name_with_glob_characters_is_read_as_named(self, tmp_path: Path) -> None:
        (tmp_path / "a*[1].csv").write_text("id\n1\n2\n")
        (tmp_path / "ab[1].csv").write_text("id\n1\n")
        evidence = Evidence({}, tmp_path / "run", tmp_path, None, {"f": "a*[1].csv"})
        assert self.judge(evidence, value=2).passed

    def test_duckdb_prints_nothing_and_fetches_nothing(self, tmp_path: Path) -> None:
        """A long query's progress bar would print over the run's progress display; an
        extension would be downloaded."""
        from poc_runner.checks.tables import csv_table

        (tmp_path / "f.csv").write_text("a\n1\n")
        with csv_table(tmp_path / "f.csv", "f") as table:
            settings = table.query(
                "SELECT current_setting('enable_progress_bar'),"
                " current_setting('autoinstall_known_extensions'),"
                " current_setting('autoload_known_extensions'), current_setting('TimeZone')"
            )
        assert settings == [[False, False, False, "UTC"]]

    def test_an_artifact_never_collected_says_why(self, tmp_path: Path) -> None:
        check = DataCheck.model_validate(
            {"type": "data", "artifact": "/out/x.csv", "metric": "row_count", "op": ">", "value": 0}
        )
        judged = judge_data(check, Evidence({}, tmp_path / "run", tmp_path))
        assert "never collected" in judged.evidence and judged.measured is None

    def test_a_table_without_a_sandbox_is_not_judged(self, tmp_path: Path) -> None:
        check = DataCheck.model_validate(
            {"type": "data", "table": {"service": "db", "name": "t"}, "metric": "row_count",
             "op": ">", "value": 0}
        )  # fmt: skip
        assert "not judged" in judge_data(check, Evidence({}, tmp_path, tmp_path)).evidence


class TestSchema:
    def test_csv_types_are_read_from_the_values(self, tmp_path: Path) -> None:
        (tmp_path / "extract.csv").write_text(csv_text(), encoding="utf-8", newline="")
        evidence = Evidence({}, tmp_path / "run", tmp_path, None, {"extract": "extract.csv"})
        check = SchemaCheck.model_validate(
            {
                "type": "schema",
                "data": "extract",
                "require": {"ID": "text", "qty": "integer", "amount": "number", "booked": "date",
                            "updated": "timestamp", "iban": "text"},
                "forbid": ["Vendor"],
            }
        )  # fmt: skip
        judged = judge_schema(check, evidence)
        assert not judged.passed
        assert judged.measured == [
            "no column iban",
            "amount has 1 value that is not number",
            "booked has 1 value that is not date",
            "updated has 3 values that are not timestamp",  # plain dates are dates, not times
            "vendor is there (forbidden)",
        ]
        assert judged.rows is not None and judged.rows.numbers == [3, 4, 5, 6]

    @needs_sqlite3
    def test_a_database_s_declared_types(self, tmp_path: Path) -> None:
        database = tmp_path / "app.db"
        with sqlite3.connect(database) as db:
            db.execute("create table t (id integer, amount numeric(10,2), name varchar(20), ssn)")
        evidence = Evidence({}, tmp_path, tmp_path, SqliteHere(database))  # type: ignore[arg-type]
        check = SchemaCheck.model_validate(
            {"type": "schema", "table": {"service": "db", "name": "t"},
             "require": {"id": "number", "amount": "number", "name": "integer"}, "forbid": ["SSN"]}
        )  # fmt: skip
        judged = judge_schema(check, evidence)
        assert judged.measured == ["name is varchar(20), not integer", "ssn is there (forbidden)"]

    @pytest.mark.parametrize(
        ("declared", "types"),
        [
            ("integer", {"integer", "number"}),
            ("bigint(20) unsigned", {"integer", "number"}),
            ("tinyint(1)", {"integer", "number", "boolean"}),
            ("double precision", {"number"}),
            ("numeric(10,2)", {"number"}),
            ("character varying", {"text"}),
            ("timestamp with time zone", {"timestamp"}),
            ("datetime", {"timestamp"}),
            ("date", {"date"}),
            ("boolean", {"boolean"}),
            ("jsonb", set()),
            ("", set()),
        ],
    )
    def test_declared_types(self, declared: str, types: set[str]) -> None:
        assert declared_types(declared) == types | {"any"}


class TestSqliteDialect:
    @needs_sqlite3
    def test_queries_never_hold_the_record_separator(self, tmp_path: Path) -> None:
        database = tmp_path / "app.db"
        with sqlite3.connect(database) as db:
            db.execute("create table t (a)")
        sandbox = SqliteHere(database)
        evidence = Evidence({}, tmp_path, tmp_path, sandbox)  # type: ignore[arg-type]
        check = DataCheck.model_validate(
            {"type": "data", "table": {"service": "db", "name": "t"}, "metric": "row_count",
             "op": "==", "value": 0}
        )  # fmt: skip
        assert judge_data(check, evidence).passed
        assert all(RECORD not in query for query in sandbox.queries)


class TestModel:
    @pytest.mark.parametrize(
        ("fields", "says"),
        [
            ({"metric": "missing_count"}, "`missing_count` is measured on `columns`"),
            ({"metric": "row_count", "columns": "id"}, "`row_count` counts rows"),
            ({"metric": "min", "columns": ["a", "b"]}, "measured on one column"),
            ({"metric": "invalid_count", "columns": "a"}, "needs `valid`"),
            ({"metric": "missing_count", "columns": "a", "valid": {"regex": "x"}}, "only applies"),
            ({"metric": "row_count", "value": "2h"}, "compare it with numbers"),
            (
                {"metric": "invalid_count", "columns": "a", "valid": {"regex": "x", "values": [1]}},
                "takes one of",
            ),
            ({"metric": "row_count", "artifact": "/o.csv"}, "exactly one of"),
        ],
    )
    def test_what_a_metric_needs(self, fields: dict[str, Any], says: str) -> None:
        spec = {"type": "data", "data": "x", "op": "==", "value": 0, **fields}
        with pytest.raises(ValueError, match=says.replace("`", ".")):
            DataCheck.model_validate(spec)

    def test_freshness_takes_durations(self) -> None:
        check = DataCheck.model_validate(
            {"type": "data", "data": "x", "metric": "freshness", "columns": "t", "op": "<=",
             "value": "24h"}
        )  # fmt: skip
        assert check.bound_seconds() == 86400

    @pytest.mark.parametrize(
        ("criterion", "says"),
        [
            (
                {"unit": "ratio", "check": {"metric": "missing_percent", "columns": "a"}},
                "percentage",
            ),
            ({"unit": "h", "check": {"metric": "freshness", "columns": "a"}}, "seconds"),
        ],
    )
    def test_a_metric_with_its_own_unit(self, criterion: dict[str, Any], says: str) -> None:
        check = {"type": "data", "data": "x", "op": "<=", "value": 1, **criterion["check"]}
        with pytest.raises(ValueError, match=says):
            Criterion.model_validate({"id": "c", "unit": criterion["unit"], "check": check})

    def test_a_schema_check_needs_something_to_check(self) -> None:
        with pytest.raises(ValueError, match="needs `require`"):
            SchemaCheck.model_validate({"type": "schema", "data": "x"})


class TestValidation:
    """`poc validate` names the file, line and key of each mistake in the new checks."""

    def test_every_mistake_named_where_it_is(self, tmp_path: Path) -> None:
        from poc_runner.validation import validate_file

        (tmp_path / "x.csv").write_text("a,b\n")
        (tmp_path / "folder").mkdir()
        (tmp_path / "scenario.yaml").write_text(
            "apiVersion: poc-runner/v1\n"
            "name: bad\n"
            "data:\n"
            "  - {name: x, path: x.csv, mount: /data/x.csv}\n"
            "  - {name: f, path: folder, mount: /data/f}\n"
            "services:\n"
            "  app: {image: base}\n"
            "acceptance:\n"
            "  criteria:\n"
            "    - {id: a, check: {type: data, data: y, metric: row_count, op: '>', value: 0}}\n"
            "    - {id: b, check: {type: data, data: x, metric: missing_count, op: '==', value: 0}}\n"
            "    - {id: c, check: {type: isolation, services: [ap]}}\n"
            "    - {id: d, check: {type: data, table: {service: app, name: 't;x'}, metric: row_count, op: '>', value: 0}}\n"
            "    - {id: e, check: {type: data, data: x, metric: avrage, columns: a, op: '>', value: 0}}\n"
            "    - {id: f, near: {op: '>=', value: 1}, check: {type: schema, data: x, forbid: [ssn]}}\n"
            "    - {id: g, check: {type: schema, data: f, forbid: [ssn]}}\n"
            "    - {id: h, check: {type: data, table: {service: db, name: t}, metric: row_count, op: '>', value: 0}}\n"
        )
        found = {
            (d.line, d.key_path, d.message.split(";")[0])
            for d in validate_file(tmp_path / "scenario.yaml", {}).diagnostics
        }
        assert {(line, path) for line, path, _ in found} == {
            (10, "acceptance.criteria[0].check.data"),
            (11, "acceptance.criteria[1].check"),
            (12, "acceptance.criteria[2].check.services[0]"),
            (13, "acceptance.criteria[3].check.table.name"),
            (14, "acceptance.criteria[4].check.metric"),
            (15, "acceptance.criteria[5]"),
            (16, "acceptance.criteria[6].check.data"),
            (17, "acceptance.criteria[7].check.table.service"),
        }
        messages = " | ".join(sorted(m for _, _, m in found))
        assert "no data item named 'y'" in messages
        assert "`missing_count` is measured on `columns`: name at least one" in messages
        assert "did you mean 'app'?" in " ".join(
            d.message for d in validate_file(tmp_path / "scenario.yaml", {}).diagnostics
        )
        assert "data item 'f' is a folder" in messages
        assert "no figure to be close on" in messages
