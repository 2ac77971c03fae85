"""`sql` checks (spec, "Check types"): a query run inside the sandbox with the service's own
client, so the answer is the product's database's own, no port is opened to the host, and
poc-runner needs no database drivers.

The client is the first of psql, mariadb, mysql, sqlite3 on the service's PATH (looked up once
per service and run). It connects as the service's own environment says, with the variables
the official images use:

- psql: PGUSER, PGDATABASE, PGPASSWORD, PGHOST... when set (psql reads them itself); otherwise
  POSTGRES_USER (default `postgres`), POSTGRES_DB and POSTGRES_PASSWORD.
- mariadb, mysql: MYSQL_USER with MYSQL_PASSWORD, else `root` with MYSQL_ROOT_PASSWORD
  (MARIADB_* spellings too), and MYSQL_DATABASE. Passwords go through the environment
  (MYSQL_PWD, PGPASSWORD), never the command line.
- sqlite3: it has no server to ask, so the service names its database file in the variable
  SQLITE_DATABASE. The file is opened read-only: a check never creates or changes it.

The value judged is the first column of the first row: a number when it reads as one, None
for NULL (told apart from empty text), the text otherwise.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poc_runner.checks import sandboxed
from poc_runner.checks.compare import Incomparable, compare, expectation
from poc_runner.checks.evidence import Evidence, Judgement, excerpt, missing
from poc_runner.model.checks import SqlCheck
from poc_runner.model.types import as_number, show

if TYPE_CHECKING:
    from poc_runner.backend import SandboxAccess

CLIENTS = ("psql", "mariadb", "mysql", "sqlite3")
FIELD, RECORD = "\x1f", "\x1e"  # ASCII unit and record separators: never in ordinary data
NULL = "\x1a"  # what psql and sqlite3 print for NULL, so it differs from empty text
_FIND = (
    f"for c in {' '.join(CLIENTS)}; do"
    ' command -v "$c" >/dev/null 2>&1 && { echo "$c"; exit 0; }; done; exit 1'
)
_MYSQL_ESCAPES = re.compile(r"\\([0nt\\])")
_UNESCAPE = {"0": "\0", "n": "\n", "t": "\t"}
_INTEGER = re.compile(r"[-+]?[0-9]+")
_found: weakref.WeakKeyDictionary[SandboxAccess, dict[str, str]] = weakref.WeakKeyDictionary()
_found_lock = threading.Lock()


class NoClient(Exception):
    """The query cannot be sent: no client, or nothing to tell it where the database is."""


def judge_sql(check: SqlCheck, evidence: Evidence) -> Judgement:
    expected = expectation(check.op, check.value)
    if evidence.sandbox is None:
        return sandboxed.not_running(expected)
    try:
        answer = ask(evidence.sandbox, check.service, check.query, expected)
    except QueryFailed as exc:
        return exc.judgement
    if not answer.rows:
        return missing(f"{answer.where}: the query returned no rows", expected)
    first = answer.rows[0][0]
    measured = None if first is None else typed(first)
    return _compare(check, measured, f"{answer.where}: first column of the first row")


@dataclass
class Answer:
    """What a query returned: each row's fields as text, None for NULL."""

    client: str
    where: str  # "psql in service 'db'", for evidence
    rows: list[list[str | None]]


class QueryFailed(Exception):
    """The query could not be sent or failed; `judgement` says why."""

    def __init__(self, judgement: Judgement) -> None:
        super().__init__(judgement.evidence)
        self.judgement = judgement


def ask(sandbox: SandboxAccess, service: str, query: str, expected: Any = None) -> Answer:
    """Run `query` in `service` with its own client; QueryFailed (a failed judgement saying
    why) when there is no client, the service stopped, or the query failed or ran too long."""
    try:
        client = client_for(sandbox, service)
        argv, environment = _command(client, query, _environment(sandbox, service))
    except NoClient as exc:
        raise QueryFailed(missing(str(exc), expected)) from None
    outcome = sandboxed.run_in(sandbox, service, argv, expected, environment)
    if isinstance(outcome, Judgement):
        raise QueryFailed(outcome)
    where = f"{client} in service {service!r}"
    if outcome.timed_out:
        raise QueryFailed(sandboxed.timed_out(f"the query ({where})", expected))
    if outcome.exit_code != 0:
        said = excerpt(outcome.stderr.text() or outcome.stdout.text()) or "no message"
        raise QueryFailed(missing(f"{where} failed the query: {said}", expected))
    rows = [_fields(client, row) for row in _rows(client, outcome.stdout.text())]
    return Answer(client, where, rows)


def _compare(check: SqlCheck, measured: Any, where: str) -> Judgement:
    expected = expectation(check.op, check.value)
    seen = f"{where} is " + ("NULL" if measured is None else show(measured))
    try:
        passed = compare(measured, check.op, check.value)
    except Incomparable as exc:
        return Judgement(False, measured, expected, f"{seen}: {exc}")
    return Judgement(passed, measured, expected, seen)


def client_for(sandbox: SandboxAccess, service: str) -> str:
    """The SQL client on the service's PATH (looked up once per service and sandbox)."""
    with _found_lock:
        known = _found.setdefault(sandbox, {}).get(service)
    if known is not None:
        return known
    outcome = sandboxed.run_in(sandbox, service, ["/bin/sh", "-c", _FIND])
    if isinstance(outcome, Judgement):
        raise NoClient(outcome.evidence)
    if outcome.timed_out:
        raise NoClient(
            sandboxed.timed_out(f"looking for a SQL client in service {service!r}").evidence
        )
    found = outcome.stdout.text().strip()
    if outcome.exit_code != 0 or found not in CLIENTS:
        raise NoClient(
            f"service {service!r} has no SQL client to run the query with (looked for"
            f" {', '.join(CLIENTS)} on its PATH); use an image that ships its database's client"
        )
    with _found_lock:
        _found.setdefault(sandbox, {})[service] = found
    return found


def _environment(sandbox: SandboxAccess, service: str) -> dict[str, str]:
    definition = sandbox.scenario.services.get(service)
    return definition.env if definition is not None else {}


def _command(client: str, query: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The client's argv, and what to add to its environment (passwords)."""
    if client == "psql":
        return _psql(query, env)
    if client == "sqlite3":
        return _sqlite(query, env)
    return _mysql(client, query, env)


def _psql(query: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    argv = ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-F", FIELD, "-R", RECORD]
    argv += ["-P", f"null={NULL}"]
    if "PGUSER" not in env:
        argv += ["-U", env.get("POSTGRES_USER") or "postgres"]
    if "PGDATABASE" not in env and env.get("POSTGRES_DB"):
        argv += ["-d", env["POSTGRES_DB"]]
    extra = {}
    if "PGPASSWORD" not in env and env.get("POSTGRES_PASSWORD"):
        extra["PGPASSWORD"] = env["POSTGRES_PASSWORD"]
    return [*argv, "-c", query], extra


def _mysql(client: str, query: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    def first(*names: str) -> str | None:
        return next((env[name] for name in names if env.get(name)), None)

    user = first("MYSQL_USER", "MARIADB_USER")
    password = (
        first("MYSQL_PASSWORD", "MARIADB_PASSWORD")
        if user
        else first("MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD")
    )
    database = first("MYSQL_DATABASE", "MARIADB_DATABASE")
    argv = [
        client,
        "-N",
        "-B",
        "-u",
        user or "root",
        "-e",
        query,
        *([database] if database else []),
    ]
    return argv, {"MYSQL_PWD": password} if password else {}


def _sqlite(query: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    database = env.get("SQLITE_DATABASE")
    if not database:
        raise NoClient(
            "sqlite3 needs to know which database file to query: set SQLITE_DATABASE in the"
            " service's environment to its path"
        )
    options = ["-batch", "-bail", "-readonly", "-list", "-noheader", "-nullvalue", NULL]
    return ["sqlite3", *options, "-separator", FIELD, "-newline", RECORD, database, query], {}


def _rows(client: str, text: str) -> list[str]:
    """The records the client printed; no output at all is no rows. mysql ends each record
    with a newline, sqlite3 each with RECORD; psql puts RECORD between them, then a newline."""
    if not text:
        return []
    if client in ("mysql", "mariadb"):
        return text.removesuffix("\n").split("\n")
    if client == "sqlite3":
        return text.removesuffix(RECORD).split(RECORD)
    return text.removesuffix("\n").split(RECORD)


def _fields(client: str, row: str) -> list[str | None]:
    """A record's fields, None for NULL (mysql's batch mode prints NULL as `NULL`, and escapes
    tabs, newlines, NULs and backslashes)."""
    if client in ("mysql", "mariadb"):
        return [
            None
            if text == "NULL"
            else _MYSQL_ESCAPES.sub(lambda m: _UNESCAPE.get(m[1], "\\"), text)
            for text in row.split("\t")
        ]
    return [None if text == NULL else text for text in row.split(FIELD)]


def _unescape(text: str) -> str:
    return _MYSQL_ESCAPES.sub(lambda m: _UNESCAPE.get(m[1], "\\"), text)


def typed(text: str) -> Any:
    """`3` as 3 and `0.95` as 0.95, so results and reports show numbers; other text as it is."""
    stripped = text.strip()
    if _INTEGER.fullmatch(stripped):
        return int(stripped)
    number = as_number(stripped)
    return text if number is None else number
