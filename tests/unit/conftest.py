"""A valid scenario folder that uses every part of the format, and helpers to break it one way."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from poc_runner.diagnostics import Diagnostic, Severity
from poc_runner.masking import SECRETS
from poc_runner.validation import Validation, validate_file

VALID = """\
apiVersion: poc-runner/v1
name: invoice-dedupe
title: Catch duplicate invoices before the payment run
prospect: {name: Acme Manufacturing, industry: manufacturing}
job:
  statement: >-
    When we close the month, we want duplicate vendor invoices caught before payment,
    so we stop overpaying suppliers.
  current_solution: Two AP clerks cross-check invoices in Excel, about 6 hours per close.
  stakeholders:
    - {role: AP clerk, wants: Spend less time hunting duplicates}
    - {role: Controller, wants: No duplicate payment goes out}
    - {role: CFO, wants: A figure to take to the board}
vars: {threshold: "0.95"}
secrets: [VENDOR_API_TOKEN]
sandbox:
  network: isolated
  timeout: 15m
data:
  - name: invoices
    path: data/invoices.csv
    mount: /data/invoices.csv
    services: [app]
services:
  db:
    image: postgres:16
    environment: {POSTGRES_PASSWORD: poc}
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "postgres"]
      interval: 1s
      timeout: 5s
      retries: 30
      start_period: 0s
  app:
    build: app
    command: ["sleep", "infinity"]
    environment:
      - TOKEN=${VENDOR_API_TOKEN}
    depends_on:
      db: {condition: service_healthy}
    tmpfs: [/tmp]
    read_only: false
    resources: {memory: 512m, cpus: 1.0, pids: 256}
    ports: ["8080"]
    cap_add: [NET_BIND_SERVICE]
    security_opt: ["no-new-privileges:true"]
steps:
  - name: detect
    service: app
    run: python3 /app/dedupe.py --out /out/flagged.json
    timeout: 2m
    env: {MODE: strict}
    workdir: /app
    artifacts: [/out/flagged.json, /out/tables]
    continue_on_error: false
  - name: load
    service: app
    run: ["python3", "/app/load.py"]
acceptance:
  pass_score: 80
  criteria:
    - id: recall
      title: Catches at least 95% of known duplicates
      for: [Controller]
      weight: 3
      must: true
      baseline: {value: 0.6, note: Excel cross-check finds about 60%}
      check: {type: json, artifact: /out/flagged.json, path: $.metrics.recall, op: ">=", value: "${threshold}"}
    - id: exits-clean
      for: [AP clerk]
      check: {type: exit_code, step: detect}
    - id: says-done
      for: [AP clerk]
      check: {type: output, step: detect, contains: done, not_contains: Traceback}
    - id: report-written
      for: [CFO]
      check: {type: file, artifact: /out/flagged.json, size: {op: ">", value: 0}}
    - id: fast
      for: [AP clerk]
      baseline: {value: 6h}
      check: {type: duration, step: detect, op: "<", value: 2m}
    - id: savings
      for: [CFO]
      check: {type: metric, step: detect, pattern: 'saved ([0-9.]+)', op: between, value: [1, 1000]}
    - id: table-matches
      for: [Controller]
      check: {type: csv, artifact: /out/tables/flagged.csv, expected: expected/flagged.csv, key: id, tolerance: 0.01}
    - id: rows-loaded
      for: [Controller]
      check: {type: sql, service: db, query: "select count(*) from invoices", op: "==", value: 12}
    - id: api-up
      for: [AP clerk]
      check:
        type: http
        url: http://app:8080/health
        status: 200
        body: {contains: ok}
        json: {path: $.status, op: "==", value: up}
        latency_ms: {op: "<", value: 500}
    - id: custom
      for: [Controller]
      check: {type: command, service: app, run: "test -s /out/flagged.json"}
"""

FILES = {
    "data/invoices.csv": "id,vendor,amount\n1,Northwind,10.00\n",
    "app/Dockerfile": "FROM python:3.12-slim\n",
    "expected/flagged.csv": "id\n1\n",
}


def write_scenario(folder: Path, text: str = VALID, files: dict[str, str] | None = None) -> Path:
    """A scenario folder with the files VALID refers to; returns the scenario file."""
    folder.mkdir(parents=True, exist_ok=True)
    for relative, content in (FILES if files is None else files).items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    scenario = folder / "scenario.yaml"
    scenario.write_text(text)
    return scenario


Check = Callable[..., Validation]


@pytest.fixture(autouse=True)
def _process_secrets_as_they_were() -> Iterator[None]:
    """Whatever secret a test's validation or run taught the process masker is forgotten after
    it: a secret left known holds back every later stream's tail and masks its text."""
    known = {name: copy.copy(value) for name, value in vars(SECRETS).items() if name != "_lock"}
    yield
    vars(SECRETS).update(known)


@pytest.fixture
def check(tmp_path: Path) -> Check:
    """Validate VALID with `replace` applied: check(("old", "new"), ...) -> Validation."""

    def run(*replace: tuple[str, str], text: str = VALID, **variables: str) -> Validation:
        for old, new in replace:
            assert old in text, f"the test's anchor {old!r} is not in the scenario"
            text = text.replace(old, new, 1)
        return validate_file(write_scenario(tmp_path, text), variables)

    return run


def errors(result: Validation) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.severity is Severity.ERROR]


def only_error(result: Validation) -> Diagnostic:
    found = errors(result)
    assert len(found) == 1, "\n".join(d.format_text() for d in result.diagnostics)
    return found[0]
