"""Integration tests: real Docker engine, real containers (`make test` starts the engine and
builds the base image first). Every test's scenario uses the local base image, so nothing is
pulled. At the end of the session no object labelled io.poc-runner.run may remain."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import jsonschema
import pytest
from docker.models.containers import Container

from poc_runner.backends.docker import DockerEngine, datacache
from poc_runner.backends.docker.client import connect
from poc_runner.backends.docker.helpers import BASE_IMAGE
from poc_runner.backends.docker.objects import remove_container
from poc_runner.backends.docker.sweep import labels_of
from poc_runner.pipeline import Options, run_all
from poc_runner.progress import Progress
from poc_runner.result import RunResult
from poc_runner.sandbox import labels
from poc_runner.sandbox.owner import Liveness, liveness, this_user
from poc_runner.schema import result_schema_json

pytestmark = pytest.mark.docker
POC = [sys.executable, "-m", "poc_runner"]
ROOT = Path(__file__).resolve().parents[2]  # the repository


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def client() -> docker.DockerClient:
    return connect()


@pytest.fixture(scope="session", autouse=True)
def a_user_of_its_own() -> Iterator[None]:
    """Kept sandboxes (`poc up`) belong to `user@host`, and `poc clean` removes every one of
    its user's whose owner ended: the session is a user of its own (LOGNAME, which
    getpass reads first), so its `poc clean` never takes the `poc up` sandbox of another
    session sharing this machine's engine, nor theirs its."""
    before = os.environ.get("LOGNAME")
    os.environ["LOGNAME"] = f"poc-tests-{os.getpid()}"
    yield
    if before is None:
        del os.environ["LOGNAME"]
    else:
        os.environ["LOGNAME"] = before


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind(client: docker.DockerClient, a_user_of_its_own: None) -> Iterator[None]:
    """No run's object of this session (of its user) remains. Data cache entries stay, as
    built images do (a cache, capped by POC_DATA_CACHE_MAX), but only whole: no fill its
    process left unfinished, no stamp without its data volume (poc_runner/backends/docker/datacache.py). The
    entries the session filled go at its end (those no run still mounts), so the suite does
    not grow the user's cache."""
    before = cache_ids(client)
    yield
    dead = [  # a run still going belongs to another process (a benchmark, say)
        thing
        for thing in labelled(client)
        if labels_of(thing).get(labels.USER) == this_user()  # not another session's
        and liveness(labels_of(thing).get(labels.OWNER)) is not Liveness.ALIVE
    ]
    # clean up so one failure does not spoil later sessions; what another process's sweep
    # took meanwhile (on an engine shared with other work) was not left for this one to find
    leftovers = [thing for thing in dead if _removed_here(thing)]
    broken = [
        entry
        for entry in datacache.entries(client)
        if entry.volume is None
        or (entry.key is None and liveness(entry.owner) is not Liveness.ALIVE)
    ]
    datacache.remove(client, broken)
    remove_entries_since(client, before)
    assert not leftovers, f"left behind: {[t.name for t in leftovers]}"
    assert not broken, f"broken data cache entries left behind: {[e.id for e in broken]}"


def _removed_here(thing: Any) -> bool:
    """Remove a container, network or volume; False when it was gone already."""
    try:
        if isinstance(thing, Container):
            remove_container(thing)
        else:
            thing.remove()
    except docker.errors.NotFound:
        return False
    return True


def cache_ids(client: docker.DockerClient) -> set[str]:
    """The ids of the data cache entries on the engine now."""
    return {entry.id for entry in datacache.entries(client)}


def remove_entries_since(client: docker.DockerClient, before: set[str]) -> None:
    """Remove the data cache entries made since `before` was taken (those no run mounts)."""
    datacache.remove(client, [e for e in datacache.entries(client) if e.id not in before])


def labelled(
    client: docker.DockerClient, run_id: str | None = None, *, user: str | None = None
) -> list[Any]:
    """The engine's objects of a run (of any run, without `run_id`; with `user`, only that
    user's). The SDK lists, then inspects each: on a shared engine a container may go between
    the two (another suite's run ending), which is no finding."""
    selector = [f"{labels.RUN}={run_id}" if run_id else labels.RUN]
    if user is not None:
        selector.append(f"{labels.USER}={user}")
    return [
        # a container another process removes meanwhile is not there any more
        *client.containers.list(all=True, filters={"label": selector}, ignore_removed=True),
        *client.networks.list(filters={"label": selector}),
        *client.volumes.list(filters={"label": selector}),
    ]


@pytest.fixture(autouse=True)
def results_follow_the_published_schema(tmp_path: Path) -> Iterator[None]:
    """Every result.json a test produces validates against schema/result-v1.schema.json."""
    yield
    schema = json.loads(result_schema_json())
    for result in tmp_path.rglob("result.json"):
        jsonschema.validate(json.loads(result.read_text()), schema)


def tamper_script(file: str, folder: str) -> str:
    """A probe that tries, as root, every write on a data file and a data folder, then prints
    as JSON what came of each attempt, its uid, the file's content, the folder's listing and
    the first option of the two mounts (ro, rw)."""
    return textwrap.dedent(
        f"""\
        import json, os
        file, folder = {file!r}, {folder!r}
        inside = os.path.join(folder, sorted(os.listdir(folder))[0])
        attempts = {{
            "append": lambda: open(file, "a").write("x"),
            "truncate": lambda: open(file, "w"),
            "remove": lambda: os.remove(file),
            "chmod": lambda: os.chmod(file, 0o666),
            "new file beside": lambda: open(os.path.join(os.path.dirname(file), "new"), "w"),
            "write in folder": lambda: open(inside, "a").write("x"),
            "new file in folder": lambda: open(os.path.join(folder, "new"), "w"),
        }}
        outcome = {{}}
        for name, attempt in attempts.items():
            try:
                attempt()
                outcome[name] = "allowed"
            except OSError as exc:
                outcome[name] = exc.strerror
        mounts = {{line.split()[1]: line.split()[3] for line in open("/proc/mounts")}}
        print(json.dumps({{
            "outcome": outcome,
            "uid": os.getuid(),
            "content": open(file).read(),
            "listing": sorted(os.listdir(folder)),
            "options": {{at: mounts[at].split(",")[0] for at in (os.path.dirname(file), folder)}},
        }}))
        """
    )


ScenarioFactory = Callable[..., Path]


@pytest.fixture
def scenario(tmp_path: Path) -> ScenarioFactory:
    """Writes a scenario folder: `body` is YAML after the header, `files` extra files."""

    def make(body: str, name: str = "probe", files: dict[str, str] | None = None) -> Path:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        header = f"apiVersion: poc-runner/v1\nname: {name}\n"
        (folder / "scenario.yaml").write_text(header + textwrap.dedent(body))
        for relative, text in (files or {}).items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(textwrap.dedent(text))
        return folder / "scenario.yaml"

    return make


@pytest.fixture
def run(tmp_path: Path, client: docker.DockerClient) -> Callable[..., RunResult]:
    """Runs one scenario in-process, as `poc run` does (head start included), and returns its
    result."""

    def run_one(path: Path, **options: Any) -> RunResult:
        progress = Progress(io.StringIO())
        given = Options(out=tmp_path / "runs", **options)
        (finished,) = run_all([path], given, on_event=progress, engine=DockerEngine(client))
        return finished.result

    return run_one


@pytest.fixture
def own_user(monkeypatch: pytest.MonkeyPatch) -> str:
    """Sandboxes left up belong to their user: one of the test's own (as the `poc` it starts
    sees it), so that a `poc clean` run meanwhile by another process on a shared engine leaves
    them alone, as it leaves other users' sandboxes."""
    user = f"poc-test-{os.getpid()}"
    monkeypatch.setenv("USER", user)
    monkeypatch.setenv("LOGNAME", user)
    return user


def results_of(stdout: str) -> dict[str, Any]:
    """The result.json of the one run whose summary `stdout` holds."""
    line = next(line for line in stdout.splitlines() if "results:" in line)
    return dict(json.loads((Path(line.split("results:")[1].strip()) / "result.json").read_text()))


def run_folder(tmp_path: Path, result: RunResult) -> Path:
    return tmp_path / "runs" / result.scenario / result.run_id


def poc(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POC, *args], capture_output=True, text=True, timeout=300, check=False, **kwargs
    )


BASE = BASE_IMAGE
# A service answering HTTP on port 8080, healthy once it does (YAML flow style, one line).
WEB_SERVICE = (
    f'{{image: {BASE}, command: [python3, -m, http.server, "8080"], healthcheck: {{test: [CMD,'
    " python3, -c, \"import urllib.request as u; u.urlopen('http://localhost:8080/')\"],"
    " interval: 1s}}"
)


@contextmanager
def listening(greeting: bytes = b"") -> Iterator[int]:
    """A TCP listener on every address of this host that accepts anyone who connects, sends
    `greeting` and closes; yields its port."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                with server.accept()[0] as connection:
                    connection.sendall(greeting)
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        server.close()


@pytest.fixture
def host_listener() -> Iterator[int]:
    """A TCP listener on every address of this host, answering anyone who connects."""
    with listening() as port:
        yield port


# A step that waits, its file /tmp/waiting there, until the test touches /tmp/go.
WAIT_FOR_GO = "touch /tmp/waiting; while [ ! -e /tmp/go ]; do sleep 0.1; done"


def host_addresses() -> list[str]:
    """Every IPv4 address of this host except loopback (the docker bridges included)."""
    listing = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True)
    found = re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", listing.stdout)
    return [address for address in found if not address.startswith("127.")]
