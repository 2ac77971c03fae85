"""Benchmark: `data` and `schema` checks on a prospect's extract of 1,000,000 rows.

Why: a data team's questions ("all our rows, none twice, nothing missing") are asked of the
prospect's real extract, which runs to millions of rows. Each metric must be measured in a few
seconds, without loading the file whole into memory (checks/tables.py: DuckDB reads it).

Targets, each metric measured alone in a fresh process, as a run's checks are:
- at most 5 s of wall time per metric (median of `--repeat` tries);
- the runner's peak RSS under 600 MB for any metric (the file itself is 80 MB; DuckDB keeps at
  most 256 MB of working memory and spills beyond it).

How: a CSV of `--rows` (default 1,000,000) rows and 7 columns (ids, timestamps, amounts with a
few blanks and non-numbers, texts with quoted commas) is written once under a temporary folder.
Each metric runs `judge_data` (or `judge_schema`) in a new Python process that imports
poc-runner, measures, and reports its wall time (and, apart, the judging alone: the queries,
imports aside); the process's peak RSS comes from wait4().
For comparison, the same duplicate count done by Python's csv module, streaming, in one
process: the engine this project did not choose (the numbers say why).

Run with `.venv/bin/python bench/data_metrics.py [--rows N] [--repeat 3]` (no Docker needed).
Exits 1 when a target is missed or a check does not give the figure the data was written for.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAX_SECONDS = 5.0
MAX_RSS_MB = 600.0

CHECKS: dict[str, dict[str, object]] = {  # name -> the check's fields (source: the data item)
    "row_count": {"metric": "row_count"},
    "missing_percent": {"metric": "missing_percent", "columns": "reference"},
    "duplicate_count": {"metric": "duplicate_count", "columns": "line_id"},
    "distinct_count": {"metric": "distinct_count", "columns": "account"},
    "invalid_count (regex)": {
        "metric": "invalid_count",
        "columns": "reference",
        "valid": {"regex": "REF[0-9]+"},
    },
    "invalid_percent (values)": {
        "metric": "invalid_percent",
        "columns": "currency",
        "valid": {"values": ["EUR", "USD"]},
    },
    "min": {"metric": "min", "columns": "quantity"},
    "sum": {"metric": "sum", "columns": "quantity"},
    "avg": {"metric": "avg", "columns": "quantity"},
    "freshness": {"metric": "freshness", "columns": "booked_at"},
    "schema": {"require": {"line_id": "text", "quantity": "integer", "booked_at": "timestamp"}},
}

MEASURE = """\
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from poc_runner.checks.data import judge_data
from poc_runner.checks.evidence import Evidence
from poc_runner.checks.schema import judge_schema
from poc_runner.model.data import DataCheck, SchemaCheck
import duckdb
imported = time.perf_counter()
folder, fields = Path(sys.argv[1]), json.loads(sys.argv[2])
evidence = Evidence({}, folder, folder, None, {"extract": "extract.csv"})
if "require" in fields:
    schema = SchemaCheck.model_validate({"type": "schema", "data": "extract", **fields})
    judged = judge_schema(schema, evidence)
else:
    check = {"type": "data", "data": "extract", "op": ">=", "value": 0, **fields}
    judged = judge_data(DataCheck.model_validate(check), evidence)
done = time.perf_counter()
print(json.dumps({"seconds": done - started, "judged": done - imported, "measured": judged.measured,
                  "evidence": judged.evidence[:200]}))
"""

STREAMED = """\
import csv, sys, time
started = time.perf_counter()
seen, repeated = set(), 0
with open(sys.argv[1], newline="", encoding="utf-8-sig") as stream:
    rows = csv.reader(stream)
    next(rows)
    for row in rows:
        if row[0] in seen:
            repeated += 1
        else:
            seen.add(row[0])
print(time.perf_counter() - started, repeated)
"""


def write_extract(path: Path, rows: int) -> dict[str, object]:
    """The extract, and the figures it was written to give."""
    rng = random.Random(25)
    blanks = invalid = 0
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            ["line_id", "account", "booked_at", "quantity", "currency", "reference", "payer"]
        )
        for n in range(rows):
            reference = "" if n % 97 == 0 else f"REF{rng.randrange(10**9)}"
            blanks += reference == ""
            currency = "CHF" if n % 1000 == 1 else rng.choice(("EUR", "EUR", "USD"))
            invalid += currency == "CHF"
            writer.writerow(
                [
                    f"L{n:08d}" if n % 50_000 else f"L{n - 1:08d}",  # every 50,000th repeats
                    f"ACC-{rng.randint(1, 500)}",
                    f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:00:00Z",
                    rng.randint(1, 100),
                    currency,
                    reference,
                    f'Payer, {rng.randint(1, 99_999)} "Ltd"',
                ]
            )
    return {
        "row_count": rows,
        "missing_percent": round(blanks / rows * 100, 6),
        "duplicate_count": (rows - 1) // 50_000,
        "invalid_percent (values)": round(invalid / rows * 100, 6),
    }


def measure(folder: Path, fields: dict[str, object]) -> tuple[float, float, object, float]:
    """Wall time, peak RSS (MB), figure, and the time of the judging alone (imports aside)
    of one check in a fresh process."""
    process = subprocess.Popen(
        [sys.executable, "-c", MEASURE, str(folder), json.dumps(fields)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    printed = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"the check failed to run: {fields}")
    said = json.loads(printed)
    return said["seconds"], usage.ru_maxrss / 1024, said["measured"], said["judged"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    missed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="poc-bench-data-") as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        expected = write_extract(folder / "extract.csv", options.rows)
        size = (folder / "extract.csv").stat().st_size / 1e6
        print(
            f"extract: {options.rows:,} rows, {size:.0f} MB, written in"
            f" {time.perf_counter() - started:.1f} s; load {os.getloadavg()[0]:.2f}"
        )
        print(f"{'check':<26} {'median s':>9} {'judging s':>10} {'peak RSS MB':>12}  figure")
        for name, fields in CHECKS.items():
            tries = [measure(folder, fields) for _ in range(options.repeat)]
            seconds = statistics.median(t[0] for t in tries)
            rss = max(t[1] for t in tries)
            figure = tries[0][2]
            judging = statistics.median(t[3] for t in tries)
            print(f"{name:<26} {seconds:>9.2f} {judging:>10.2f} {rss:>12.0f}  {figure}")
            if seconds > MAX_SECONDS:
                missed.append(f"{name}: {seconds:.2f} s > {MAX_SECONDS} s")
            if rss > MAX_RSS_MB:
                missed.append(f"{name}: peak RSS {rss:.0f} MB > {MAX_RSS_MB} MB")
            if name in expected and figure != expected[name]:
                missed.append(f"{name}: measured {figure}, the data gives {expected[name]}")
        process = subprocess.Popen(
            [sys.executable, "-c", STREAMED, str(folder / "extract.csv")],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        seconds, repeated = process.stdout.read().split()
        _, _, usage = os.wait4(process.pid, 0)
        print(
            "for comparison, duplicate_count by Python's csv module, streaming:"
            f" {float(seconds):.2f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MB"
            f" ({repeated} duplicates)"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    for miss in missed:
        print(f"MISSED {miss}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
