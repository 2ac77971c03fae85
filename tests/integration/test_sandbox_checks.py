"""`sql`, `http` and `command` checks on the real engine: a real PostgreSQL server built from
poc_runner/images/postgres, a real HTTP service, real commands, all judged inside the sandbox."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from poc_runner.checks import sandboxed
from poc_runner.result import CriterionResult, RunResult

from .conftest import BASE, WEB_SERVICE, ScenarioFactory

RECIPES = Path(__file__).parents[2] / "poc_runner" / "images"

INVOICES = """\
create table invoices (id int primary key, vendor text not null, amount numeric(10, 2));
insert into invoices values (1, 'Acme | Co', 100.25), (2, 'Northwind', 40.00), (3, 'Globex', 10.25);
"""

SQLITE = f"""\
FROM {BASE}
RUN apt-get update && apt-get install -y --no-install-recommends sqlite3 \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
"""

FILL_SQLITE = (
    "import sqlite3; db = sqlite3.connect('/db/app.db');"
    " db.execute('create table t (a)'); db.executemany('insert into t values (?)', [(1,), (2,)]);"
    " db.commit()"
)

API = """\
import json, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Api(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(1)
        if self.path in ("/health", "/slow"):
            self.send(200, {"status": "up", "invoices": [{"id": 1}, {"id": 2}], "method": self.command})
        else:
            self.send(404, {"error": "no such page"})

    do_POST = do_GET

    def send(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("0.0.0.0", 8080), Api).serve_forever()
"""

LEFTOVERS = """\
import os, sys
found = 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        found += open(f"/proc/{pid}/cmdline", "rb").read() == b"sleep\\x00100\\x00"
    except OSError:
        pass
print(f"{found} left running")
sys.exit(found)
"""


def outcomes(result: RunResult) -> dict[str, bool]:
    return {criterion.id: criterion.passed for criterion in result.criteria}


def criterion(result: RunResult, name: str) -> CriterionResult:
    return next(c for c in result.criteria if c.id == name)


def test_sql_queries_a_real_postgres_with_its_own_client(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    path = scenario(
        f"""\
        data:
          - {{name: invoices, path: invoices.sql, mount: /seed/invoices.sql, services: [db]}}
        services:
          db:
            build: postgres
            healthcheck: {{test: [CMD, pg_isready], interval: 1s, timeout: 5s, retries: 30}}
          lite:
            build: sqlite
            command: [sleep, infinity]
            environment: {{SQLITE_DATABASE: /db/app.db}}
            tmpfs: [/db]
          plain: {{image: {BASE}, command: [sleep, infinity]}}
        steps:
          - {{name: load, service: db, run: psql -X -q -v ON_ERROR_STOP=1 -f /seed/invoices.sql}}
          - {{name: load-lite, service: lite, run: [python3, -c, "{FILL_SQLITE}"]}}
        acceptance:
          pass_score: 55
          criteria:
            - {{id: three-invoices, weight: 2, check: {{type: sql, service: db, query: "select count(*) from invoices", op: "==", value: 3}}}}
            - {{id: four-invoices, check: {{type: sql, service: db, query: "select count(*) from invoices", op: "==", value: 4}}}}
            - {{id: total, check: {{type: sql, service: db, query: "select sum(amount) from invoices", op: between, value: [150, 151]}}}}
            - {{id: first-vendor, check: {{type: sql, service: db, query: "select vendor, id from invoices order by id", op: "==", value: "Acme | Co"}}}}
            - {{id: null-total, check: {{type: sql, service: db, query: "select sum(amount) from invoices where false", op: "==", value: 0}}}}
            - {{id: broken-query, check: {{type: sql, service: db, query: "select count(*) from nope", op: "==", value: 0}}}}
            - {{id: sqlite-rows, check: {{type: sql, service: lite, query: "select count(*) from t", op: ">=", value: 2}}}}
            - {{id: no-client, check: {{type: sql, service: plain, query: "select 1", op: "==", value: 1}}}}
        """,
        name="sql-checks",
        files={"invoices.sql": INVOICES, "sqlite/Dockerfile": SQLITE},
    )
    shutil.copytree(RECIPES / "postgres", path.parent / "postgres")
    result = run(path)
    assert result.error is None, result.error
    assert [(s.name, s.exit_code) for s in result.steps] == [("load", 0), ("load-lite", 0)]
    assert outcomes(result) == {
        "three-invoices": True,
        "four-invoices": False,
        "total": True,
        "first-vendor": True,
        "null-total": False,
        "broken-query": False,
        "sqlite-rows": True,
        "no-client": False,
    }
    three, four, total = (
        criterion(result, n) for n in ("three-invoices", "four-invoices", "total")
    )
    assert (three.measured, three.expected) == (3, "== 3")
    assert (four.measured, four.expected) == (3, "== 4")
    assert total.measured == 150.5
    assert criterion(result, "first-vendor").measured == "Acme | Co"
    assert criterion(result, "null-total").measured is None
    assert criterion(result, "null-total").evidence.endswith("first row is NULL")
    broken = criterion(result, "broken-query").evidence
    assert broken.startswith("psql in service 'db' failed the query: ERROR:")
    assert 'relation "nope" does not exist' in broken
    assert "sqlite3 in service 'lite'" in criterion(result, "sqlite-rows").evidence
    assert criterion(result, "no-client").evidence.startswith("service 'plain' has no SQL client")
    assert result.score == pytest.approx(55.56)  # 5 of 9 points
    assert result.verdict == "pass"


def test_http_requests_are_sent_from_inside_the_sandbox(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    api = "http://api:8080"
    path = scenario(
        f"""\
        data: [{{name: api, path: api.py, mount: /srv/api.py}}]
        services:
          api:
            image: {BASE}
            command: [python3, /srv/api.py]
            healthcheck:
              test: [CMD, python3, -c, "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health')"]
              interval: 1s
              retries: 30
        acceptance:
          criteria:
            - id: healthy
              check:
                type: http
                url: {api}/health
                status: 200
                body: {{contains: '"up"'}}
                json: {{path: $.status, op: "==", value: up}}
                latency_ms: {{op: "<", value: 5000}}
            - {{id: posted, check: {{type: http, url: {api}/health, method: POST, json: {{path: $.method, op: "==", value: POST}}}}}}
            - {{id: not-found, check: {{type: http, url: {api}/missing, status: 404}}}}
            - {{id: up-bare, check: {{type: http, url: {api}/health}}}}
            - {{id: wrong-status, check: {{type: http, url: {api}/missing, status: 200}}}}
            - {{id: wrong-json, check: {{type: http, url: {api}/health, json: {{path: "$.invoices[*].id", op: contains, value: 3}}}}}}
            - {{id: missing-text, check: {{type: http, url: {api}/health, body: {{contains: down}}}}}}
            - {{id: slow, check: {{type: http, url: {api}/slow, latency_ms: {{op: "<", value: 500}}}}}}
            - {{id: nothing-listening, check: {{type: http, url: "http://api:9999/", status: 200}}}}
        """,
        name="http-checks",
        files={"api.py": API},
    )
    result = run(path)
    assert result.error is None, result.error
    assert outcomes(result) == {
        "healthy": True,
        "posted": True,
        "not-found": True,
        "up-bare": True,
        "wrong-status": False,
        "wrong-json": False,
        "missing-text": False,
        "slow": False,
        "nothing-listening": False,
    }
    healthy = criterion(result, "healthy")
    assert healthy.measured["status"] == 200 and healthy.measured["json"] == "up"
    assert healthy.evidence.startswith(
        "GET http://api:8080/health from inside the sandbox: status 200 in "
    )
    evidence = {c.id: c.evidence for c in result.criteria}
    assert "status 404 is not 200" in evidence["wrong-status"]
    assert "$.invoices[*].id is [1, 2], not contains 3" in evidence["wrong-json"]
    assert "the body does not contain 'down'" in evidence["missing-text"]
    assert criterion(result, "slow").measured["latency_ms"] >= 1000
    assert "is not < 500" in evidence["slow"]
    assert "got no answer: ConnectionRefusedError" in evidence["nothing-listening"]
    assert result.score == pytest.approx(44.44)
    assert result.verdict == "fail"


def test_command_checks_run_in_a_service(
    scenario: ScenarioFactory, run: Callable[..., RunResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandboxed, "TIMEOUT", 2.0)
    path = scenario(
        f"""\
        data: [{{name: leftovers, path: leftovers.py, mount: /probe/leftovers.py}}]
        services:
          app: {{image: {BASE}, command: [sleep, infinity], environment: {{GREETING: hello}}}}
        acceptance:
          criteria:
            - {{id: sees-its-env, check: {{type: command, service: app, run: 'test "$GREETING" = hello'}}}}
            - {{id: argv, check: {{type: command, service: app, run: [python3, -c, "print('checked 12 invoices')"]}}}}
            - {{id: finds-duplicates, must: true, check: {{type: command, service: app, run: "echo 2 duplicates paid >&2; exit 3"}}}}
            - {{id: hangs, check: {{type: command, service: app, run: sleep 100}}}}
            - {{id: hang-was-killed, check: {{type: command, service: app, run: [python3, /probe/leftovers.py]}}}}
        """,
        name="command-checks",
        files={"leftovers.py": LEFTOVERS},
    )
    result = run(path)
    assert result.error is None, result.error
    assert outcomes(result) == {
        "sees-its-env": True,
        "argv": True,
        "finds-duplicates": False,
        "hangs": False,
        "hang-was-killed": True,
    }
    argv, failing, hangs = (criterion(result, n) for n in ("argv", "finds-duplicates", "hangs"))
    assert argv.evidence.endswith("exited with 0: checked 12 invoices")
    assert (failing.measured, failing.expected) == (3, 0)
    assert failing.evidence == ("check command in service 'app' exited with 3: 2 duplicates paid")
    assert hangs.evidence == (
        "check command in service 'app' did not finish within 2 s, so it was stopped"
    )
    assert result.score == 60.0
    assert result.verdict == "fail"  # a must-have failed


def test_without_a_sandbox_the_checks_are_not_judged(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    path = scenario(
        f"""\
        services:
          app:
            image: {BASE}
            command: [sleep, infinity]
            healthcheck: {{test: [CMD, "false"], interval: 100ms, timeout: 1s, retries: 1}}
        acceptance:
          criteria:
            - {{id: sql, check: {{type: sql, service: app, query: "select 1", op: "==", value: 1}}}}
            - {{id: http, check: {{type: http, url: "http://app:8080/"}}}}
            - {{id: command, check: {{type: command, service: app, run: "true"}}}}
        """,
        name="no-sandbox",
    )
    result = run(path)
    assert result.verdict == "error"
    assert "never became healthy" in (result.error or "")
    assert {c.id: c.evidence for c in result.criteria} == dict.fromkeys(
        ("sql", "http", "command"), "not judged: the sandbox was not running"
    )


def test_a_service_named_probe_does_not_collide_with_the_http_probe(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    """http checks are sent from poc-runner's own container; a service may still be `probe`."""
    path = scenario(
        f"""\
        services:
          probe: {WEB_SERVICE}
        acceptance:
          criteria:
            - {{id: answers, check: {{type: http, url: "http://probe:8080/"}}}}
        """,
        name="probe-named",
    )
    result = run(path)
    assert result.error is None, result.error
    assert outcomes(result) == {"answers": True}
