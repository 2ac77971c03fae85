"""Checks judged inside the sandbox: `sql`, `http`, `command` (spec, "Check types").

A fake sandbox stands in for the engine: it answers `exec` from a script of replies and records
what was asked. The http probe script itself runs on this machine against a local server, so
its handling of statuses, redirects, methods and timeouts is tested without Docker.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from poc_runner.backend import Outcome
from poc_runner.checks import http as http_check
from poc_runner.checks import judge, sandboxed
from poc_runner.checks.command import judge_command
from poc_runner.checks.evidence import Evidence
from poc_runner.checks.http import judge_http
from poc_runner.checks.sql import FIELD, NULL, RECORD, judge_sql
from poc_runner.errors import ServiceStopped
from poc_runner.model.checks import CommandCheck, HttpCheck, SqlCheck
from poc_runner.model.services import Service
from poc_runner.sandbox.capture import Capture

NOT_RUNNING = "not judged: the sandbox was not running"


def outcome(
    exit_code: int | None = 0,
    stdout: str = "",
    stderr: str = "",
    *,
    timed_out: bool = False,
    duration_s: float = 0.1,
) -> Outcome:
    out, err = Capture(), Capture()
    out.write(stdout.encode())
    err.write(stderr.encode())
    return Outcome(None if timed_out else exit_code, timed_out, duration_s, out, err)


Reply = Outcome | Exception | Callable[[list[str]], Outcome]


class FakeSandbox:
    """The checks' seam (checks.evidence.SandboxAccess) with replies given: `exec` replies come
    in order, `probe` answers with `probed`."""

    def __init__(
        self,
        replies: list[Reply],
        probed: Callable[[list[str], float], Outcome] | None = None,
        **environments: dict[str, str],
    ) -> None:
        services = {name: Service(image="x", environment=env) for name, env in environments.items()}
        self.scenario = SimpleNamespace(services=services or {"db": Service(image="x")})
        self.replies = list(replies)
        self.probed = probed
        self.calls: list[tuple[str, list[str], float, dict[str, str] | None]] = []

    def exec(
        self,
        service: str,
        argv: list[str],
        timeout: float,
        environment: dict[str, str] | None = None,
    ) -> Outcome:
        self.calls.append((service, argv, timeout, environment))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply(argv) if callable(reply) else reply

    def probe(self, argv: list[str], timeout: float) -> Outcome:
        assert self.probed is not None, "this test sends no http check"
        return self.probed(argv, timeout)


def evidence(sandbox: FakeSandbox | None, tmp_path: Path) -> Evidence:
    return Evidence({}, tmp_path / "run", tmp_path, sandbox)  # type: ignore[arg-type]


def sql(query: str = "select count(*) from invoices", op: str = "==", value: Any = 3) -> SqlCheck:
    return SqlCheck.model_validate(
        {"type": "sql", "service": "db", "query": query, "op": op, "value": value}
    )


def found(client: str) -> Outcome:
    """The reply to the client look-up."""
    return outcome(0, f"{client}\n")


def rows(*records: tuple[Any, ...]) -> str:
    """What psql (-A -t -F US -R RS) prints."""
    return RECORD.join(FIELD.join(map(str, record)) for record in records) + "\n"


class TestSql:
    def test_psql_passes(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([found("psql"), outcome(0, rows((3, "x")))])
        judged = judge_sql(sql(), evidence(sandbox, tmp_path))
        assert judged.passed
        assert (judged.measured, judged.expected) == (3, "== 3")
        assert judged.evidence == "psql in service 'db': first column of the first row is 3"
        service, argv, timeout, environment = sandbox.calls[1]
        assert service == "db" and timeout == sandboxed.TIMEOUT
        assert argv[0] == "psql" and argv[-2:] == ["-c", "select count(*) from invoices"]
        assert argv[argv.index("-U") : argv.index("-U") + 2] == ["-U", "postgres"]
        assert "-d" not in argv and environment == {}

    def test_psql_fails_on_another_value(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([found("psql"), outcome(0, rows((3,)))])
        judged = judge_sql(sql(value=4), evidence(sandbox, tmp_path))
        assert not judged.passed
        assert (judged.measured, judged.expected) == (3, "== 4")

    def test_the_first_column_of_the_first_row_even_with_separators_in_it(
        self, tmp_path: Path
    ) -> None:
        sandbox = FakeSandbox([found("psql"), outcome(0, rows(("Acme|Co\t", 1), ("b", 2)))])
        judged = judge_sql(sql("select vendor", value="Acme|Co\t"), evidence(sandbox, tmp_path))
        assert judged.passed
        assert judged.measured == "Acme|Co\t"

    @pytest.mark.parametrize(
        ("printed", "measured"),
        [
            ("0.95", 0.95),
            ("-7", -7),
            ("1e3", 1000.0),
            ("12345678901234567890", 12345678901234567890),
        ],
    )
    def test_numbers_are_numbers(self, tmp_path: Path, printed: str, measured: Any) -> None:
        sandbox = FakeSandbox([found("psql"), outcome(0, rows((printed,)))])
        judged = judge_sql(sql(value=printed), evidence(sandbox, tmp_path))
        assert judged.passed and judged.measured == measured

    def test_psql_credentials_from_the_service_environment(self, tmp_path: Path) -> None:
        env = {"POSTGRES_USER": "acme", "POSTGRES_DB": "ledger", "POSTGRES_PASSWORD": "s3cret"}
        sandbox = FakeSandbox([found("psql"), outcome(0, rows((3,)))], db=env)
        judge_sql(sql(), evidence(sandbox, tmp_path))
        _, argv, _, environment = sandbox.calls[1]
        assert argv[argv.index("-U") : argv.index("-U") + 2] == ["-U", "acme"]
        assert argv[argv.index("-d") : argv.index("-d") + 2] == ["-d", "ledger"]
        assert environment == {"PGPASSWORD": "s3cret"}
        assert "s3cret" not in argv

    def test_psql_reads_its_own_variables_itself(self, tmp_path: Path) -> None:
        env = {"PGUSER": "app", "PGDATABASE": "app", "PGPASSWORD": "x", "POSTGRES_DB": "other"}
        sandbox = FakeSandbox([found("psql"), outcome(0, rows((3,)))], db=env)
        judge_sql(sql(), evidence(sandbox, tmp_path))
        _, argv, _, environment = sandbox.calls[1]
        assert "-U" not in argv and "-d" not in argv and environment == {}

    def test_mariadb_with_the_application_user(self, tmp_path: Path) -> None:
        env = {"MYSQL_USER": "app", "MYSQL_PASSWORD": "pw", "MYSQL_DATABASE": "shop"}
        sandbox = FakeSandbox([found("mariadb"), outcome(0, "3\tx\n4\ty\n")], db=env)
        judged = judge_sql(sql(), evidence(sandbox, tmp_path))
        assert judged.passed and judged.measured == 3
        _, argv, _, environment = sandbox.calls[1]
        assert argv == ["mariadb", "-N", "-B", "-u", "app", "-e", sql().query, "shop"]
        assert environment == {"MYSQL_PWD": "pw"}

    def test_mysql_as_root_and_its_escapes(self, tmp_path: Path) -> None:
        env = {"MYSQL_ROOT_PASSWORD": "root-pw"}
        sandbox = FakeSandbox([found("mysql"), outcome(0, "a\\tb\\nc\\\\d\n")], db=env)
        judged = judge_sql(sql("select name", value="a\tb\nc\\d"), evidence(sandbox, tmp_path))
        assert judged.passed
        _, argv, _, environment = sandbox.calls[1]
        assert argv == ["mysql", "-N", "-B", "-u", "root", "-e", "select name"]
        assert environment == {"MYSQL_PWD": "root-pw"}

    def test_sqlite_reads_the_file_the_service_names(self, tmp_path: Path) -> None:
        env = {"SQLITE_DATABASE": "/var/lib/app/app.db"}
        printed = f"3{FIELD}x{RECORD}4{FIELD}y{RECORD}"
        sandbox = FakeSandbox([found("sqlite3"), outcome(0, printed)], db=env)
        judged = judge_sql(sql(), evidence(sandbox, tmp_path))
        assert judged.passed and judged.measured == 3
        _, argv, _, _ = sandbox.calls[1]
        assert argv[0] == "sqlite3" and "-readonly" in argv
        assert argv[-2:] == ["/var/lib/app/app.db", sql().query]

    def test_sqlite_without_a_database_file_says_which_variable_to_set(
        self, tmp_path: Path
    ) -> None:
        sandbox = FakeSandbox([found("sqlite3")])
        judged = judge_sql(sql(), evidence(sandbox, tmp_path))
        assert not judged.passed and judged.measured is None
        assert "SQLITE_DATABASE" in judged.evidence
        assert len(sandbox.calls) == 1

    def test_no_client_names_the_service(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([outcome(1)])
        judged = judge_sql(sql(), evidence(sandbox, tmp_path))
        assert not judged.passed
        assert judged.evidence.startswith("service 'db' has no SQL client")
        assert "psql, mariadb, mysql, sqlite3" in judged.evidence
        assert sandbox.calls[0][1][:2] == ["/bin/sh", "-c"]

    def test_a_client_look_up_that_hangs(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([outcome(timed_out=True)])
        judged = judge_sql(sql(), evidence(sandbox, tmp_path))
        assert not judged.passed
        assert judged.evidence == (
            "looking for a SQL client in service 'db' did not finish within 60 s, so it was stopped"
        )

    def test_a_query_error_is_the_clients_message(self, tmp_path: Path) -> None:
        error = 'ERROR:  relation "nope" does not exist\nLINE 1: select * from nope\n'
        sandbox = FakeSandbox([found("psql"), outcome(1, "", error)])
        judged = judge_sql(sql("select * from nope"), evidence(sandbox, tmp_path))
        assert not judged.passed and judged.measured is None
        assert judged.evidence.startswith(
            "psql in service 'db' failed the query: ERROR:  relation \"nope\" does not exist"
        )

    def test_a_query_that_hangs_times_out(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([found("psql"), outcome(timed_out=True, duration_s=60.0)])
        judged = judge_sql(sql("select pg_sleep(600)"), evidence(sandbox, tmp_path))
        assert not judged.passed
        assert judged.evidence == (
            "the query (psql in service 'db') did not finish within 60 s, so it was stopped"
        )

    def test_no_rows(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([found("psql"), outcome(0, "")])
        judged = judge_sql(sql(), evidence(sandbox, tmp_path))
        assert not judged.passed
        assert judged.evidence == "psql in service 'db': the query returned no rows"

    def test_an_empty_text_is_a_value(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([found("psql"), outcome(0, "\n")])
        judged = judge_sql(sql("select ''", value=""), evidence(sandbox, tmp_path))
        assert judged.passed and judged.measured == ""

    @pytest.mark.parametrize(
        ("client", "printed"),
        [("psql", f"{NULL}\n"), ("sqlite3", f"{NULL}{RECORD}"), ("mariadb", "NULL\n")],
    )
    def test_null_is_none(self, tmp_path: Path, client: str, printed: str) -> None:
        env = {"SQLITE_DATABASE": "/app.db"}
        sandbox = FakeSandbox([found(client), outcome(0, printed)], db=env)
        judged = judge_sql(sql("select sum(amount)", value=0), evidence(sandbox, tmp_path))
        assert not judged.passed and judged.measured is None
        assert judged.evidence == f"{client} in service 'db': first column of the first row is NULL"

    def test_an_impossible_comparison_is_explained(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([found("psql"), outcome(0, rows(("Acme",)))])
        judged = judge_sql(sql(op=">=", value=3), evidence(sandbox, tmp_path))
        assert not judged.passed and judged.measured == "Acme"
        assert "is not a number" in judged.evidence

    def test_the_client_is_looked_up_once_per_service(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([found("psql"), outcome(0, rows((3,))), outcome(0, rows((4,)))])
        assert judge_sql(sql(), evidence(sandbox, tmp_path)).passed
        assert judge_sql(sql(value=4), evidence(sandbox, tmp_path)).passed
        assert [argv[0] for _, argv, _, _ in sandbox.calls] == ["/bin/sh", "psql", "psql"]

    def test_a_stopped_service_fails_the_check_with_why(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([ServiceStopped("service 'db' stopped (exit code 137)")])
        judged = judge_sql(sql(), evidence(sandbox, tmp_path))
        assert not judged.passed
        assert "service 'db' stopped (exit code 137)" in judged.evidence

    def test_no_sandbox(self, tmp_path: Path) -> None:
        judged = judge_sql(sql(), evidence(None, tmp_path))
        assert not judged.passed
        assert (judged.measured, judged.expected) == (None, "== 3")
        assert judged.evidence == NOT_RUNNING


def command(run: str | list[str] = "test -s /out/flagged.json") -> CommandCheck:
    return CommandCheck.model_validate({"type": "command", "service": "app", "run": run})


class TestCommand:
    def test_exit_zero_passes_and_keeps_the_output(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([outcome(0, "12 rows checked\n")], app={})
        judged = judge_command(command(), evidence(sandbox, tmp_path))
        assert judged.passed
        assert (judged.measured, judged.expected) == (0, 0)
        assert judged.evidence == "check command in service 'app' exited with 0: 12 rows checked"
        assert sandbox.calls == [
            ("app", ["/bin/sh", "-c", "test -s /out/flagged.json"], sandboxed.TIMEOUT, None)
        ]

    def test_a_list_is_the_argv(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([outcome(0)], app={})
        judged = judge_command(command(["python3", "/check.py"]), evidence(sandbox, tmp_path))
        assert judged.passed
        assert judged.evidence == "check command in service 'app' exited with 0 and printed nothing"
        assert sandbox.calls[0][1] == ["python3", "/check.py"]

    def test_non_zero_fails_with_both_streams(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([outcome(3, "checked 12\n", "2 duplicates paid\n")], app={})
        judged = judge_command(command(), evidence(sandbox, tmp_path))
        assert not judged.passed
        assert (judged.measured, judged.expected) == (3, 0)
        assert judged.evidence == (
            "check command in service 'app' exited with 3: checked 12\n2 duplicates paid"
        )

    def test_long_output_is_an_excerpt(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([outcome(1, "x" * 10_000)], app={})
        judged = judge_command(command(), evidence(sandbox, tmp_path))
        assert len(judged.evidence) < 300 and judged.evidence.endswith("...")

    def test_timeout(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([outcome(timed_out=True, duration_s=60.0)], app={})
        judged = judge_command(command("sleep 600"), evidence(sandbox, tmp_path))
        assert not judged.passed and judged.measured is None
        assert judged.evidence == (
            "check command in service 'app' did not finish within 60 s, so it was stopped"
        )

    def test_a_stopped_service(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([ServiceStopped("service 'app' stopped (exit code 1)")], app={})
        judged = judge_command(command(), evidence(sandbox, tmp_path))
        assert not judged.passed
        assert judged.evidence == (
            "could not run in service 'app': service 'app' stopped (exit code 1)"
        )

    def test_an_unknown_service_is_not_run(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([], db={})
        judged = judge_command(command(), evidence(sandbox, tmp_path))
        assert not judged.passed and judged.evidence == "'app' is not a service of this scenario"

    def test_no_sandbox(self, tmp_path: Path) -> None:
        judged = judge_command(command(), evidence(None, tmp_path))
        assert not judged.passed and judged.evidence == NOT_RUNNING


def http(**fields: Any) -> HttpCheck:
    return HttpCheck.model_validate({"type": "http", "url": "http://api:8080/health", **fields})


def answered(
    status: int | None = 200,
    body: Any = "",
    latency_ms: float | None = 12.5,
    **more: Any,
) -> Callable[..., Outcome]:
    """A stand-in for `execute` in the probe: replies with what the probe script prints."""
    text = body if isinstance(body, str) else json.dumps(body)
    printed = {
        "status": status,
        "latency_ms": latency_ms,
        "body_excerpt": text,
        "truncated": False,
        "error": None,
        "timed_out": False,
        **more,
    }
    return lambda *_args, **_kw: outcome(0, json.dumps(printed) + "\n")


BODY = {"status": "up", "items": [{"id": 1, "total": 5}, {"id": 2, "total": 7}]}


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """judge_http against service `api`, with the probe's output given."""

    def check(probe: Callable[..., Outcome], **fields: Any) -> Any:
        return judge_http(http(**fields), evidence(FakeSandbox([], probe, api={}), tmp_path))

    return check


class TestHttp:
    def test_every_condition_holds(self, api: Callable[..., Any]) -> None:
        judged = api(
            answered(200, BODY),
            status=200,
            body={"contains": '"up"'},
            json={"path": "$.status", "op": "==", "value": "up"},
            latency_ms={"op": "<", "value": 500},
        )
        assert judged.passed, judged.evidence
        assert judged.measured == {"status": 200, "latency_ms": 12.5, "json": "up"}
        assert judged.expected == {
            "status": 200,
            "body.contains": '"up"',
            "json": "$.status == up",
            "latency_ms": "< 500",
        }
        assert judged.evidence.startswith(
            "GET http://api:8080/health from inside the sandbox: status 200 in 12.5 ms;"
            " every condition holds; body: "
        )

    def test_an_expected_404_passes(self, api: Callable[..., Any]) -> None:
        assert api(answered(404, "no such invoice"), status=404).passed

    def test_a_wrong_status_fails(self, api: Callable[..., Any]) -> None:
        judged = api(answered(503, "down"), status=200)
        assert not judged.passed
        assert "status 503 is not 200" in judged.evidence
        assert judged.evidence.endswith("body: 'down'")

    def test_without_conditions_any_2xx_passes(self, api: Callable[..., Any]) -> None:
        assert api(answered(204)).passed
        judged = api(answered(500, "boom"))
        assert not judged.passed and judged.expected == {"status": "2xx"}
        assert "status 500 is not 2xx" in judged.evidence

    def test_body_contains(self, api: Callable[..., Any]) -> None:
        judged = api(answered(200, "all good"), body={"contains": "ready"})
        assert not judged.passed
        assert "the body does not contain 'ready'" in judged.evidence

    def test_a_cut_body_says_so(self, api: Callable[..., Any]) -> None:
        judged = api(answered(200, "x", truncated=True), body={"contains": "ready"})
        assert "(only its first 64 KiB were read)" in judged.evidence

    def test_json_value_differs(self, api: Callable[..., Any]) -> None:
        judged = api(answered(200, BODY), json={"path": "$.items[1].id", "op": "==", "value": 3})
        assert not judged.passed
        assert judged.measured["json"] == 2
        assert "$.items[1].id is 2, not == 3" in judged.evidence

    def test_json_wildcards_follow_the_json_check(self, api: Callable[..., Any]) -> None:
        every = {"path": "$.items[*].total", "op": ">", "value": 4}
        assert api(answered(200, BODY), json=every).passed
        one_short = {"path": "$.items[*].total", "op": ">", "value": 5}
        judged = api(answered(200, BODY), json=one_short)
        assert not judged.passed and judged.measured["json"] == [5, 7]
        assert "$.items[*].total is 5, not > 5" in judged.evidence
        contains = {"path": "$.items[*].id", "op": "contains", "value": 2}
        assert api(answered(200, BODY), json=contains).passed

    def test_json_path_matches_nothing(self, api: Callable[..., Any]) -> None:
        judged = api(answered(200, BODY), json={"path": "$.nope", "op": "==", "value": 1})
        assert not judged.passed
        assert "$.nope matched nothing in the body" in judged.evidence

    def test_a_body_that_is_not_json(self, api: Callable[..., Any]) -> None:
        judged = api(answered(200, "<html>"), json={"path": "$.a", "op": "==", "value": 1})
        assert not judged.passed and "the body is not JSON" in judged.evidence

    def test_latency(self, api: Callable[..., Any]) -> None:
        judged = api(answered(200, latency_ms=812.0), latency_ms={"op": "<", "value": 500})
        assert not judged.passed
        assert judged.measured == {"status": 200, "latency_ms": 812.0}
        assert "latency 812.0 ms is not < 500" in judged.evidence

    def test_every_failed_condition_is_named(self, api: Callable[..., Any]) -> None:
        judged = api(
            answered(500, BODY, latency_ms=900.0),
            status=200,
            body={"contains": "ok"},
            json={"path": "$.status", "op": "==", "value": "ok"},
            latency_ms={"op": "<", "value": 500},
        )
        assert not judged.passed
        assert (
            "status 500 is not 200; the body does not contain 'ok'; $.status is \"up\","
            " not == ok; latency 900.0 ms is not < 500"
        ) in judged.evidence

    def test_no_answer(self, api: Callable[..., Any]) -> None:
        refused = "ConnectionRefusedError: [Errno 111] Connection refused"
        judged = api(answered(None, latency_ms=None, error=refused), status=200)
        assert not judged.passed and judged.measured is None
        assert judged.evidence == (
            f"GET http://api:8080/health from inside the sandbox got no answer: {refused}"
        )

    def test_the_request_timed_out(self, api: Callable[..., Any]) -> None:
        judged = api(answered(None, latency_ms=None, error="timed out", timed_out=True))
        assert not judged.passed
        assert judged.evidence == (
            "GET http://api:8080/health from inside the sandbox did not finish within 60 s,"
            " so it was stopped"
        )

    def test_the_probe_itself_hung(self, api: Callable[..., Any]) -> None:
        judged = api(lambda *_a, **_k: outcome(timed_out=True))
        assert not judged.passed
        assert "no answer within 60 s, so the request was stopped" in judged.evidence

    def test_a_probe_that_cannot_run(self, api: Callable[..., Any]) -> None:
        judged = api(lambda *_a, **_k: outcome(127, "", "exec: python3: not found"))
        assert not judged.passed
        assert judged.evidence.endswith(
            "the request could not be sent (exit 127): exec: python3: not found"
        )

    def test_the_url_must_name_a_service(self, tmp_path: Path) -> None:
        sandbox = FakeSandbox([], db={})
        judged = judge_http(http(url="http://example.com/"), evidence(sandbox, tmp_path))
        assert not judged.passed
        assert "'example.com', which is not a service of this scenario" in judged.evidence

    def test_no_sandbox(self, tmp_path: Path) -> None:
        judged = judge_http(http(status=200), evidence(None, tmp_path))
        assert not judged.passed
        assert (judged.measured, judged.expected) == (None, {"status": 200})
        assert judged.evidence == NOT_RUNNING


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(1.5)
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/health")
            self.end_headers()
        elif self.path == "/big":
            self.reply(200, b"x" * (http_check.BODY_LIMIT + 10))
        else:
            known = self.path in ("/health", "/slow")
            self.reply(200 if known else 404, b'{"method": "%s"}' % self.command.encode())

    do_POST = do_DELETE = do_GET

    def reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # a client that gave up (timeout tests)
            self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """judge_http with the probe script run on this machine against a local server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

    def run_here(argv: list[str], timeout: float) -> Outcome:
        done = subprocess.run(
            [sys.executable, *argv[1:]], capture_output=True, text=True, timeout=timeout
        )
        return outcome(done.returncode, done.stdout, done.stderr)

    def check(path: str, port: int | None = None, **fields: Any) -> Any:
        url = f"http://localhost:{port or server.server_address[1]}{path}"
        here = FakeSandbox([], run_here, localhost={})
        return judge_http(http(url=url, **fields), evidence(here, tmp_path))

    yield check
    server.shutdown()
    server.server_close()


class TestProbeScript:
    def test_status_body_json_and_latency(self, local: Callable[..., Any]) -> None:
        judged = local(
            "/health",
            status=200,
            json={"path": "$.method", "op": "==", "value": "GET"},
            latency_ms={"op": "<", "value": 5000},
        )
        assert judged.passed, judged.evidence
        assert judged.measured["status"] == 200 and 0 < judged.measured["latency_ms"] < 5000

    def test_the_method_is_sent(self, local: Callable[..., Any]) -> None:
        json_method = {"path": "$.method", "op": "==", "value": "POST"}
        assert local("/health", method="POST", json=json_method).passed

    def test_error_statuses_are_answers(self, local: Callable[..., Any]) -> None:
        judged = local("/missing", status=404, body={"contains": "method"})
        assert judged.passed, judged.evidence

    def test_redirects_are_not_followed(self, local: Callable[..., Any]) -> None:
        assert local("/moved", status=302).passed

    def test_only_the_head_of_a_big_body_is_read(self, local: Callable[..., Any]) -> None:
        judged = local("/big", body={"contains": "y"})
        assert not judged.passed and "only its first 64 KiB were read" in judged.evidence

    def test_latency_is_measured(self, local: Callable[..., Any]) -> None:
        judged = local("/slow", latency_ms={"op": "<", "value": 1000})
        assert not judged.passed and judged.measured["latency_ms"] >= 1500

    def test_a_slow_answer_times_out(
        self, local: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sandboxed, "TIMEOUT", 0.5)
        judged = local("/slow", status=200)
        assert not judged.passed
        assert "did not finish within 0.5 s" in judged.evidence

    def test_nothing_listening(self, local: Callable[..., Any]) -> None:
        judged = local("/", port=1, status=200)
        assert not judged.passed
        assert "got no answer: ConnectionRefusedError" in judged.evidence


def test_the_three_are_registered(tmp_path: Path) -> None:
    for check in (sql(), http(), command()):
        assert judge(check, evidence(None, tmp_path)).evidence == NOT_RUNNING
