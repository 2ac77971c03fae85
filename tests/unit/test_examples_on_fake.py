"""Every example scenario in scenarios/ runs its whole pipeline on the fake engine, no Docker,
and ends with the verdict, score and failing criteria the real engine gives
(tests/integration/test_examples.py holds the same figures on Docker).

The fake runs nothing itself, so each example's commands are answered here by the product's
own programs, run on this machine as they run in their service: the container paths they name
are mapped to the scenario's files and a scratch folder, `psql` is a stand-in over DuckDB (the
vendor's own SQL and loader script run against it), and the order API is started on a loopback
port. Only what needs the kernel or a real PostgreSQL server is answered as they answer: the
isolation helper finds no way out (an isolated network), and the stock-alerts stack, whose
services run at start-up, answers from the vendor's seed and config files."""

from __future__ import annotations

import configparser
import csv
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from poc_runner.backends.fake import Call, FakeEngine, Reply
from poc_runner.pipeline import Options, load, run_all
from tests.integration.test_examples import CLOSE, EXAMPLES, EXPECTED, FILES
from tests.unit.test_runs_on_fake import isolated

PSQL = '''\
#!{python}
"""psql, as far as the examples use it, over a DuckDB file ($FAKE_PG)."""
import json, os, re, sys, time
import duckdb

args, sep, rec, null, text = sys.argv[1:], "|", "\\n", "", None
takes = {{"-F", "-R", "-P", "-c", "-f", "-h", "-U", "-d", "-v", "-p"}}
i = 0
while i < len(args):
    flag = args[i]
    value = args[i + 1] if flag in takes else None
    if flag == "-F": sep = value
    elif flag == "-R": rec = value
    elif flag == "-P" and value.startswith("null="): null = value[5:]
    elif flag == "-c": text = value
    elif flag == "-f": text = open(value).read()
    i += 2 if flag in takes else 1
if text is None:
    text = sys.stdin.read()
mounts = json.loads(os.environ["FAKE_MOUNTS"])

def local(path):
    if any(path == o or path.startswith(o.rstrip("/") + "/") for o in mounts.values()):
        return path  # this machine's already (a checkout under /tmp is not the service's /tmp)
    for inside, outside in sorted(mounts.items(), key=lambda m: -len(m[0])):
        if path == inside or path.startswith(inside.rstrip("/") + "/"):
            return outside + path[len(inside):]
    return path

statements, pending = [], ""
for line in text.splitlines():
    if line.strip().startswith("\\\\copy"):
        table, path, options = re.match(r"\\s*\\\\copy (\\S+) FROM '([^']+)' WITH (.*)", line).groups()
        statements.append(f"COPY {{table}} FROM '{{local(path)}}' {{options}}")
    elif not line.strip().startswith("--"):
        pending += line + "\\n"
        if line.rstrip().endswith(";"):
            statements.append(pending.strip().rstrip(";"))
            pending = ""
if pending.strip():
    statements.append(pending.strip().rstrip(";"))
for attempt in range(200):
    try:
        db = duckdb.connect(os.environ["FAKE_PG"])
        break
    except duckdb.IOException:
        time.sleep(0.05)
out = []
for statement in statements:
    statement = statement.replace("= ANY (current_schemas(false))", "= 'main'")
    try:
        result = db.execute(statement)
        rows = result.fetchall() if result.description else []
    except duckdb.Error as exc:
        sys.stderr.write(f"ERROR:  {{exc}}\\n")
        sys.exit(1)
    for row in rows:
        out.append(sep.join(null if v is None else str(v) for v in row))
db.close()
sys.stdout.write(rec.join(out) + ("\\n" if out else ""))
'''

# Started instead of the order API's own server: the same program, on a loopback port.
BOUND = """\
import http.server, runpy, sys
class Bound(http.server.ThreadingHTTPServer):
    def __init__(self, _address, handler):
        super().__init__(("127.0.0.1", 0), handler)
        print(self.server_address[1], flush=True)
http.server.ThreadingHTTPServer = Bound
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


class Machine:
    """The services of one example, on this machine: their paths, their `psql`, and the
    address their `api` service answers at."""

    def __init__(self, folder: Path, scratch: Path) -> None:
        self.folder, self.scratch = folder, scratch
        scenario = load(folder / "scenario.yaml", {}, secrets=False)
        self.mounts = {item.mount: str(folder / item.path) for item in scenario.data}
        programs: dict[str, Path] = {}
        for service in scenario.services.values():  # each build's COPY, as its image has it
            build = service.build
            context = build if isinstance(build, str) else getattr(build, "context", None)
            dockerfile = folder / str(context) / "Dockerfile" if context else None
            if dockerfile is not None and dockerfile.is_file():
                for source, target in re.findall(
                    r"^COPY (\S+) (\S+)$", dockerfile.read_text(), re.M
                ):
                    self.mounts[target] = str(dockerfile.parent / source)
                    if target.startswith("/usr/local/bin/"):  # a command on the service's PATH
                        programs[target.rpartition("/")[2]] = dockerfile.parent / source
        for written in ("/out", "/tmp"):
            (scratch / written.strip("/")).mkdir(parents=True, exist_ok=True)
            self.mounts[written] = str(scratch / written.strip("/"))
        tools = scratch / "bin"
        tools.mkdir()
        (tools / "psql").write_text(PSQL.format(python=sys.executable))
        (tools / "psql").chmod(0o755)
        (tools / "python3").symlink_to(sys.executable)
        for program, source in programs.items():
            (tools / program).symlink_to(source)
        self.env = {
            **os.environ,
            "PATH": f"{tools}:{os.environ['PATH']}",
            "FAKE_PG": str(scratch / "postgres.duckdb"),
            "FAKE_MOUNTS": json.dumps(self.mounts),
        }
        self.api: str | None = None  # http://127.0.0.1:PORT, once the api runs here

    def local(self, text: str) -> str:
        """Container paths and the api's address in `text`, as they are on this machine."""
        inside = "|".join(map(re.escape, sorted(self.mounts, key=len, reverse=True)))
        found = re.compile(rf"(?<![\w./-])({inside})(?=[/\s'\"]|$)")
        text = found.sub(lambda match: self.mounts[match[1]], text)  # one pass: none twice
        return text.replace("http://api:8080", self.api) if self.api else text

    def run(self, call: Call) -> Reply:
        """The command, run here as in its service; what it wrote under /out and /tmp."""
        argv = (
            ["/bin/sh", "-c", self.local(call.line)]
            if call.argv[0] == "/bin/sh"
            else [self.local(part) for part in call.argv]
        )
        started = time.monotonic()
        done = subprocess.run(
            argv,
            capture_output=True,
            env={**self.env, **call.environment},
            timeout=120,
            check=False,
        )
        writes = {
            f"/{path.relative_to(self.scratch).as_posix()}": path.read_bytes()
            for written in ("out", "tmp")
            for path in (self.scratch / written).rglob("*")
            if path.is_file()
        }
        return Reply(done.returncode, done.stdout, done.stderr, time.monotonic() - started, writes)


@pytest.fixture
def machine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Machine]:
    name = request.node.callspec.params["name"]
    here = Machine(EXAMPLES / name, tmp_path / "machine")
    server = None
    if name == "order-status-api":  # its api service, serving the prospect's export
        api = EXAMPLES / name / "api" / "order_api.py"
        server = subprocess.Popen(
            [sys.executable, "-c", BOUND, str(api), here.mounts["/data/orders.csv"]],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        here.api = f"http://127.0.0.1:{server.stdout.readline().strip()}"
    yield here
    if server is not None:
        server.terminate()
        server.wait(10)


def stock_alerts(folder: Path) -> Callable[[Call], Reply | None]:
    """The stock-alerts stack as its services answer once up: the migration job loaded the
    seed, the api reports what is at or below its threshold and the configured channel."""
    with (folder / "deploy" / "seed" / "products.csv").open(newline="") as handle:
        products = list(csv.DictReader(handle))
    config = configparser.ConfigParser()
    config.read(folder / "deploy" / "config" / "stockpilot.ini")
    low = sorted(p["sku"] for p in products if int(p["on_hand"]) <= 5)  # LOW_STOCK: 5
    report = {
        "title": "Low stock report",
        "threshold": 5,
        "low": low,
        "migrated": len(products),
        "alert_channel": config["alerts"]["channel"],
    }

    def answer(call: Call) -> Reply | None:
        if "low-stock" in call.line:
            return Reply(writes={"/tmp/report.json": json.dumps(report)})
        if call.argv[0] == "psql" and "count(*) FROM products" in call.argv[-1]:
            return Reply(stdout=f"{len(products)}\n")
        return None

    return answer


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_ends_on_the_fake_with_the_verdict_the_engine_gives(
    name: str, machine: Machine, tmp_path: Path
) -> None:
    scripted = stock_alerts(EXAMPLES / name) if name == "stock-alerts" else (lambda _c: None)

    def handler(call: Call) -> Reply:
        if call.within:
            return isolated(call)
        return scripted(call) or machine.run(call)

    engine = FakeEngine(handler)
    options = Options(out=tmp_path / "runs", history=False)
    (finished,) = run_all([EXAMPLES / name / "scenario.yaml"], options, engine=engine)
    result = finished.result
    verdict, score, failing = EXPECTED[name]
    assert result.error is None, result.error
    assert {c.id for c in result.criteria if not c.passed} == failing, [
        (c.id, c.evidence) for c in result.criteria if not c.passed
    ]
    assert {c.id for c in result.criteria if c.status == "close"} == CLOSE.get(name, set())
    assert (result.verdict, result.score) == (verdict, score)
    assert set(result.inputs.files) == {"scenario.yaml"} | FILES[name]
    assert engine.made[0].removed


def test_every_example_runs_on_the_fake() -> None:
    assert {path.parent.name for path in EXAMPLES.glob("*/scenario.yaml")} == set(EXPECTED)
