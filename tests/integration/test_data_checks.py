"""`data` and `schema` checks on the real engine: a table in PostgreSQL (the local image, asked
with psql in its own container), a table in SQLite (sqlite3 in its container), and a CSV file a
step wrote, with the rows that fail each check in result.json and in the reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from poc_runner.result import CriterionResult, RunResult

from .conftest import BASE, ScenarioFactory, run_folder
from .test_sandbox_checks import SQLITE

SEED = """\
create table invoices (id text, vendor text, amount numeric(10, 2), booked timestamptz, ssn text);
insert into invoices values
  ('INV-1', 'Acme, Inc.', 100.50, now() - interval '2 hours', null),
  ('inv-1', '', 20, now() - interval '1 day', null),
  ('INV-1', null, -5, null, '123-45-6789'),
  ('INV-2', 'Globex "Intl"', 7, now() - interval '3 days', null);
"""

FILL_SQLITE = """\
import sqlite3
db = sqlite3.connect("/db/app.db")
db.execute("create table invoices (id text, vendor text, amount real)")
db.executemany("insert into invoices values (?, ?, ?)",
               [("INV-1", "Acme, Inc.", 100.5), ("inv-1", "", 20), ("INV-1", None, -5)])
db.commit()
"""

WRITE_CSV = """\
import csv, os
os.makedirs("/out", exist_ok=True)
with open("/out/matches.csv", "w", newline="", encoding="utf-8-sig") as f:
    w = csv.writer(f)
    w.writerow(["line_id", "invoice_id", "amount", "payer_name"])
    for n in range(1, 101):
        w.writerow([f"BL-{n:03d}", "" if n in (17, 42) else f"INV-{n}", f"{n}.50", "Ann Example"])
"""

PG = "{service: db, name: invoices}"
LITE = "{service: lite, name: INVOICES}"


def judged(result: RunResult) -> dict[str, CriterionResult]:
    return {criterion.id: criterion for criterion in result.criteria}


def test_data_and_schema_checks_on_postgres_sqlite_and_csv(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path
) -> None:
    path = scenario(
        f"""\
        data:
          - {{name: seed, path: seed.sql, mount: /seed/seed.sql, services: [db]}}
          - {{name: writer, path: write_csv.py, mount: /poc/write_csv.py, services: [app]}}
          - {{name: filler, path: fill.py, mount: /poc/fill.py, services: [lite]}}
        services:
          db:
            image: poc-runner/postgres:bookworm
            healthcheck: {{test: [CMD, pg_isready, -h, localhost], interval: 1s, retries: 30}}
          lite:
            build: sqlite
            command: [sleep, infinity]
            environment: {{SQLITE_DATABASE: /db/app.db}}
            tmpfs: [/db]
          app: {{image: {BASE}, command: [sleep, infinity]}}
        steps:
          - {{name: load, service: db, run: psql -X -q -v ON_ERROR_STOP=1 -f /seed/seed.sql}}
          - {{name: fill, service: lite, run: [python3, /poc/fill.py]}}
          - {{name: write, service: app, run: [python3, /poc/write_csv.py], artifacts: [/out/matches.csv]}}
        acceptance:
          criteria:
            - {{id: pg-rows, check: {{type: data, table: {PG}, metric: row_count, op: "==", value: 4}}}}
            - {{id: pg-dupes, check: {{type: data, table: {PG}, metric: duplicate_count, columns: id, op: "==", value: 0}}}}
            - {{id: pg-missing, check: {{type: data, table: {PG}, metric: missing_percent, columns: vendor, op: "<=", value: 10}}}}
            - {{id: pg-invalid, check: {{type: data, table: {PG}, metric: invalid_count, columns: id, valid: {{regex: "INV-[0-9]+"}}, op: "==", value: 0}}}}
            - {{id: pg-min, check: {{type: data, table: {PG}, metric: min, columns: amount, op: ">=", value: 0}}}}
            - {{id: pg-sum, check: {{type: data, table: {PG}, metric: sum, columns: amount, op: "==", value: 122.5}}}}
            - {{id: pg-fresh, check: {{type: data, table: {PG}, metric: freshness, columns: booked, op: "<=", value: 3h}}}}
            - {{id: pg-schema, check: {{type: schema, table: {PG}, require: {{id: text, amount: number, booked: timestamp}}, forbid: [SSN]}}}}
            - {{id: lite-dupes, check: {{type: data, table: {LITE}, metric: duplicate_count, columns: id, op: "==", value: 0}}}}
            - {{id: lite-distinct, check: {{type: data, table: {LITE}, metric: distinct_count, columns: id, op: "==", value: 2}}}}
            - {{id: csv-missing, check: {{type: data, artifact: /out/matches.csv, metric: missing_count, columns: invoice_id, op: "==", value: 0}}}}
            - {{id: csv-schema, check: {{type: schema, artifact: /out/matches.csv, require: {{line_id: text, amount: number}}, forbid: [payer_name]}}}}
        """,
        name="data-checks",
        files={
            "seed.sql": SEED,
            "sqlite/Dockerfile": SQLITE,
            "fill.py": FILL_SQLITE,
            "write_csv.py": WRITE_CSV,
        },
    )
    result = run(path)
    assert result.error is None, result.error
    found = judged(result)
    assert {name: c.passed for name, c in found.items()} == {
        "pg-rows": True,
        "pg-dupes": False,
        "pg-missing": False,
        "pg-invalid": False,
        "pg-min": False,
        "pg-sum": True,
        "pg-fresh": True,
        "pg-schema": False,
        "lite-dupes": False,
        "lite-distinct": True,
        "csv-missing": False,
        "csv-schema": False,
    }

    # PostgreSQL, through psql in its own container
    assert found["pg-rows"].measured == 4 and found["pg-rows"].unit == "rows"
    dupes = found["pg-dupes"]
    assert dupes.measured == 1  # INV-1 twice; inv-1 is another key
    assert dupes.failing_rows is not None
    assert [row[0] for row in dupes.failing_rows.rows] == ["INV-1", "INV-1"]
    assert dupes.evidence.startswith("table invoices (psql in service 'db'): 1 row repeats")
    assert found["pg-missing"].measured == 50.0  # '' and NULL, of 4
    assert found["pg-missing"].unit == "%"
    assert found["pg-invalid"].failing_rows.rows[0][0] == "inv-1"  # type: ignore[union-attr]
    assert found["pg-min"].measured == -5
    assert 2 * 3600 - 60 < found["pg-fresh"].measured < 2 * 3600 + 600
    assert found["pg-schema"].measured == ["ssn is there (forbidden)"]

    # SQLite, through sqlite3 in its container
    lite = found["lite-dupes"]
    assert lite.measured == 1 and lite.evidence.startswith("table INVOICES (sqlite3 in service")

    # a CSV file a step wrote, read by DuckDB: its failing rows by number
    missing = found["csv-missing"]
    assert missing.measured == 2 and missing.failing_rows is not None
    assert missing.failing_rows.numbers == [17, 42]
    assert missing.failing_rows.columns[:2] == ["invoice_id", "line_id"]
    assert found["csv-schema"].measured == ["payer_name is there (forbidden)"]

    folder = run_folder(tmp_path, result)
    written = {c["id"]: c for c in json.loads((folder / "result.json").read_text())["criteria"]}
    assert written["csv-missing"]["failing_rows"] == {
        "columns": ["invoice_id", "line_id", "amount", "payer_name"],
        "rows": [
            [None, "BL-017", "17.50", "Ann Example"],
            [None, "BL-042", "42.50", "Ann Example"],
        ],
        "total": 2,
        "numbers": [17, 42],
    }
    html = (folder / "report.html").read_text()
    assert "The 2 rows that fail it" in html and "BL-042" in html
    markdown = (folder / "report.md").read_text()
    assert "| 42 | NULL | `BL-042` |" in markdown


def test_a_table_that_is_not_there_fails_naming_why(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    path = scenario(
        f"""\
        services:
          db:
            image: poc-runner/postgres:bookworm
            healthcheck: {{test: [CMD, pg_isready, -h, localhost], interval: 1s, retries: 30}}
        acceptance:
          criteria:
            - {{id: rows, check: {{type: data, table: {PG}, metric: row_count, op: ">", value: 0}}}}
        """,
        name="no-table",
    )
    result = run(path)
    (rows,) = result.criteria
    assert result.error is None and not rows.passed and rows.measured is None
    assert rows.evidence == "psql in service 'db' found no table 'invoices' in its database"
