"""Benchmark: `poc validate` over 500 realistic scenario folders, and `poc --help` start-up time.

What is measured, and why:

- One `poc validate DIR` call over 500 generated, valid scenario folders (best of 3, wall
  clock). This is what CI does on a repository of scenarios; it must stay well under the time
  a developer waits for a pre-commit hook. Target: under 3.0 s.
- Peak RSS of those validate calls (the largest child seen, from RUSAGE_CHILDREN).
- `poc --help` (best of 10): the CLI imports its heavy modules lazily, so asking for help must
  answer at once. Target: under 0.3 s.

Each generated scenario has a job with 2-3 stakeholders, vars, a data file, two services (an
image with a healthcheck, and a build context) joined by `depends_on: service_healthy`, 3-4
steps with artifacts and 6-10 acceptance criteria of varied check types. Counts vary with the
index so the files differ. Before timing, one folder is validated on its own and must come out
with no errors and no warnings, so the benchmark measures the happy path it claims to.

Standard library only; run with `make bench` (or `.venv/bin/python bench/validate_many.py`).
Exits 1 when a target is missed or a check fails.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

POC = Path(sys.executable).parent / "poc"
SCENARIOS = 500
VALIDATE_RUNS = 3
HELP_RUNS = 10
VALIDATE_TARGET_S = 3.0
HELP_TARGET_S = 0.3

ROLES = ("AP clerk", "Controller", "CFO")
CSV = "invoice_id,vendor,amount\nINV-1,Acme,120.00\nINV-2,Acme,120.00\nINV-3,Globex,75.50\n"
DOCKERFILE = 'FROM python:3.12-slim\nCOPY . /app\nCMD ["sleep", "infinity"]\n'


def steps_yaml(count: int) -> str:
    """`count` steps (3 or 4), each writing one artifact /out/<name>.json; step 0 uses vars."""
    names = ("load", "detect", "report", "export")[:count]
    lines = ["steps:"]
    for name in names:
        run = f"python3 /app/{name}.py --out /out/{name}.json"
        if name == "detect":
            run += " --threshold ${threshold} --limit ${max_rows}"
        lines += [
            f"  - name: {name}",
            "    service: app",
            f"    run: {run}",
            "    timeout: 2m",
            f"    artifacts: [/out/{name}.json]",
        ]
    return "\n".join(lines)


# One criterion body per check type, each a YAML block indented to sit under `check:`.
CHECKS: tuple[str, ...] = (
    "type: exit_code\nstep: load",
    "type: output\nstep: detect\ncontains: duplicates found",
    'type: json\nartifact: /out/detect.json\npath: $.x\nop: ">="\nvalue: ${threshold}',
    "type: file\nartifact: /out/report.json\nsize: {op: '>', value: 0}",
    'type: duration\nstep: detect\nop: "<="\nvalue: 90s',
    'type: metric\nstep: detect\npattern: "recall=([0-9.]+)"\nop: ">="\nvalue: 0.9',
    'type: sql\nservice: db\nquery: SELECT count(*) FROM invoices\nop: ">="\nvalue: 3',
    "type: http\nurl: http://app:8080/health\nstatus: 200",
    "type: command\nservice: app\nrun: test -s /out/load.json",
)


def criteria_yaml(index: int, count: int, roles: tuple[str, ...]) -> str:
    """`count` criteria, cycling through the check types from an index-dependent start."""
    lines = ["acceptance:", "  pass_score: 80", "  criteria:"]
    for k in range(count):
        body = CHECKS[(index + k) % len(CHECKS)]
        kind = body.split("\n", 1)[0].removeprefix("type: ")
        lines += [
            f"    - id: {kind.replace('_', '-')}-{k}",
            f"      title: Criterion {k} checks {kind}",
            f"      for: [{roles[k % len(roles)]}]",
            f"      weight: {1 + k % 3}",
            f"      must: {str(k == 0).lower()}",
            "      check:",
            *(f"        {line}" for line in body.split("\n")),
        ]
    return "\n".join(lines)


def scenario_yaml(index: int) -> str:
    roles = ROLES[: 2 + index % 2]
    stakeholders = "\n".join(f"    - {{role: {r}, wants: Progress for {r}}}" for r in roles)
    return f"""\
apiVersion: poc-runner/v1
name: bench-{index:04d}
title: Catch duplicate invoices, variant {index}
prospect: {{name: Prospect {index}, industry: manufacturing}}
job:
  statement: >-
    When we close the month, we want duplicate vendor invoices caught before payment,
    so we stop overpaying suppliers.
  current_solution: Two clerks cross-check invoices in a spreadsheet.
  stakeholders:
{stakeholders}
vars:
  threshold: "0.9{index % 10}"
  max_rows: "{1000 + index}"
data:
  - name: invoices
    path: data/invoices.csv
    mount: /data/invoices.csv
    services: [app]
services:
  db:
    image: postgres:16
    environment: {{POSTGRES_PASSWORD: poc}}
    healthcheck:
      test: ["CMD", "pg_isready"]
      interval: 1s
      retries: 30
  app:
    build: app
    command: ["sleep", "infinity"]
    depends_on:
      db: {{condition: service_healthy}}
    resources: {{memory: 512m, cpus: 1.0}}
{steps_yaml(3 + index % 2)}
{criteria_yaml(index, 6 + index % 5, roles)}
"""


def write_scenarios(root: Path, count: int) -> None:
    for index in range(count):
        folder = root / f"s{index:04d}"
        (folder / "data").mkdir(parents=True)
        (folder / "app").mkdir()
        (folder / "scenario.yaml").write_text(scenario_yaml(index))
        (folder / "data" / "invoices.csv").write_text(CSV)
        (folder / "app" / "Dockerfile").write_text(DOCKERFILE)


def poc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(POC), *args], capture_output=True, text=True, check=False)


def best_of(runs: int, action: Callable[[], None]) -> float:
    """The fastest of `runs` wall-clock timings of `action`, in seconds."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def expect_clean(result: subprocess.CompletedProcess[str], files: int) -> None:
    """Exit 0, nothing on stdout, and the summary `N files checked: N valid, 0 errors, ...`."""
    plural = "s" * (files != 1)
    summary = f"{files} file{plural} checked: {files} valid, 0 errors, 0 warnings"
    if result.returncode != 0 or result.stdout.strip() or result.stderr.strip() != summary:
        sys.exit(
            f"poc validate did not report {files} clean file{plural}"
            f" (exit {result.returncode}):\n{result.stdout}{result.stderr}"
        )


def peak_child_rss_mib() -> float:
    """Largest resident set of any waited-for child so far (KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poc-bench-") as tmp:
        root = Path(tmp)
        write_scenarios(root, SCENARIOS)
        expect_clean(poc("validate", str(root / "s0000")), 1)
        validate_s = best_of(
            VALIDATE_RUNS, lambda: expect_clean(poc("validate", str(root)), SCENARIOS)
        )
        rss_mib = peak_child_rss_mib()  # read now, so only validate calls count

    def help_once() -> None:
        if poc("--help").returncode != 0:
            sys.exit("poc --help failed")

    help_s = best_of(HELP_RUNS, help_once)

    rows = [
        (f"validate {SCENARIOS} files (best of {VALIDATE_RUNS})", validate_s, VALIDATE_TARGET_S),
        (f"poc --help (best of {HELP_RUNS})", help_s, HELP_TARGET_S),
    ]
    print(f"{'measure':<44} {'value':>8} {'target':>8}")
    for label, seconds, target in rows:
        print(f"{label + ' (s)':<44} {seconds:>8.3f} {f'< {target}':>8}")
    print(f"{'validate peak RSS (MiB)':<44} {rss_mib:>8.1f} {'-':>8}")
    print()
    missed = 0
    for label, seconds, target in rows:
        ok = seconds < target
        missed += not ok
        print(f"{'PASS' if ok else 'MISS'}: {label}: {seconds:.3f} s (target < {target} s)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
