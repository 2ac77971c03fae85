"""The data cache on the engine: a later run on the same files mounts the volume an earlier run
filled, read-only, with exact checksums; a change is seen; eviction, `poc clean --cache`, a
killed fill and two runs at once."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.models.containers import Container

from poc_runner.backends.docker import datacache
from poc_runner.backends.docker.datacache import content_key
from poc_runner.result import RunResult
from poc_runner.sandbox import labels as label
from poc_runner.sandbox.hashindex import RACY_NS, VERSION

from .conftest import (
    BASE,
    POC,
    ScenarioFactory,
    cache_ids,
    labelled,
    poc,
    remove_entries_since,
    run_folder,
    tamper_script,
)

SCENARIO = f"""\
data:
  - {{name: extract, path: data/extract.csv, mount: /data/extract.csv}}
  - {{name: rates, path: data/rates, mount: /ref}}
  - {{name: tamper, path: tamper.py, mount: /probe/tamper.py}}
services:
  app: {{image: {BASE}, command: [sleep, infinity]}}
steps:
  - {{name: tamper, service: app, run: [python3, /probe/tamper.py]}}
"""


@pytest.fixture(autouse=True)
def own_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: docker.DockerClient
) -> Iterator[None]:
    """A hash index of this test's own, for runs here and the `poc` it starts; the entries
    of its data (seen by no other test) go afterwards."""
    monkeypatch.setenv("POC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("POC_HISTORY", str(tmp_path / "history.sqlite"))
    before = cache_ids(client)
    yield
    remove_entries_since(client, before)


def settle() -> None:
    """Files written less than RACY_NS ago are hashed again next time, by design; wait that
    out so the next run records them."""
    time.sleep(RACY_NS / 1e9 + 0.2)


def extract_scenario(scenario: ScenarioFactory, name: str, body: str = SCENARIO) -> Path:
    token = os.urandom(8).hex()  # data of this test only: no entry of another test matches
    path = scenario(
        body,
        name=name,
        files={
            "tamper.py": tamper_script("/data/extract.csv", "/ref"),
            "data/extract.csv": f"invoice,amount\nA-1,100\n# {token}\n",
            "data/rates/rates.csv": f"currency,rate\nEUR,1.1\n# {token}\n",
        },
    )
    settle()
    return path


def seen(tmp_path: Path, result: RunResult) -> Any:
    assert result.error is None, result.error
    return json.loads((run_folder(tmp_path, result) / "steps" / "tamper.out").read_text())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def entries_holding(client: docker.DockerClient, scenario_path: Path) -> list[datacache.Entry]:
    """The complete entries holding the scenario's /data volume (its one file, extract.csv)."""
    extract = scenario_path.parent / "data" / "extract.csv"
    key = content_key({"extract.csv": sha256(extract)}, {"extract.csv": extract.stat().st_size}, [])
    return [entry for entry in datacache.entries(client) if entry.key == key and entry.volume]


def entry_for(client: docker.DockerClient, scenario_path: Path) -> datacache.Entry:
    (entry,) = entries_holding(client, scenario_path)
    return entry


def test_a_later_run_on_the_same_files_mounts_the_cached_volume_read_only(
    scenario: ScenarioFactory,
    run: Callable[..., RunResult],
    tmp_path: Path,
    client: docker.DockerClient,
) -> None:
    path = extract_scenario(scenario, "cache-reuse")
    first, second = run(path), run(path)
    items = ("extract", "rates", "tamper")
    assert first.environment["data_cache"] == dict.fromkeys(items, "copied")
    assert second.environment["data_cache"] == dict.fromkeys(items, "cached")
    host = path.parent / "data" / "extract.csv"
    for result in (first, second):  # each tried every write, as root, and none got through
        outcome = seen(tmp_path, result)
        assert outcome["uid"] == 0
        assert set(outcome["outcome"].values()) == {"Read-only file system"}, outcome
        assert outcome["options"] == {"/data": "ro", "/ref": "ro"}
        assert outcome["content"] == host.read_text()
    assert first.environment["data"] == second.environment["data"]
    assert second.environment["data"]["extract"] == sha256(host)
    report = (run_folder(tmp_path, second) / "report.md").read_text()
    assert "Data from the cache, not copied again" in report
    assert "Data from the cache" not in (run_folder(tmp_path, first) / "report.md").read_text()
    entry = entry_for(client, path)  # kept after both runs: no teardown took it
    assert labelled(client, first.run_id) == labelled(client, second.run_id) == []
    third = run(path)
    assert third.environment["data_cache"]["extract"] == "cached"
    assert entry_for(client, path).id == entry.id
    assert seen(tmp_path, third)["content"] == host.read_text()  # as it was, after 3 tries


def test_a_changed_byte_with_size_and_mtime_kept_is_seen_inside_and_in_the_result(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path
) -> None:
    path = extract_scenario(scenario, "cache-change")
    host = path.parent / "data" / "extract.csv"
    run(path)
    assert run(path).environment["data_cache"]["extract"] == "cached"  # the index vouches
    before = host.stat()
    with host.open("r+b") as handle:
        handle.write(b"I")  # "invoice" -> "Invoice": the same size
    os.utime(host, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (host.stat().st_size, host.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    changed = run(path)
    assert changed.environment["data_cache"]["extract"] == "copied"
    assert seen(tmp_path, changed)["content"] == host.read_text()
    assert host.read_text().startswith("Invoice,")
    written = json.loads((run_folder(tmp_path, changed) / "result.json").read_text())
    assert written["environment"]["data"]["extract"] == sha256(host)


def test_a_tampered_hash_index_never_mounts_stale_data_as_cached(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path
) -> None:
    """The extract gains a row; then its record in data-index.json is rewritten to the digest
    it had before, the index's checksum recomputed. The entry holding the old extract was
    filled from a file of another size, so the index is not believed over it: the data is
    copied again, as it is now."""
    path = extract_scenario(scenario, "cache-tamper")
    host = path.parent / "data" / "extract.csv"
    stale = sha256(host)
    run(path)  # an entry holding the extract as it was
    host.write_text(host.read_text() + "A-2,250\n")
    settle()
    assert run(path).environment["data_cache"]["extract"] == "copied"  # the index learns it
    index = tmp_path / "state" / "data-index.json"
    entries = json.loads(index.read_bytes().partition(b"\n")[2])
    record = entries[os.path.abspath(host)]  # noqa: PTH100
    assert record[:3] == [host.stat().st_dev, host.stat().st_ino, host.stat().st_size]
    record[5] = stale  # the old digest, for the file as it is now
    body = json.dumps(entries, separators=(",", ":")).encode()
    header = json.dumps({"version": VERSION, "check": hashlib.sha256(body).hexdigest()})
    index.write_bytes(header.encode() + b"\n" + body)
    tampered = run(path)
    assert tampered.environment["data_cache"]["extract"] == "copied"
    assert seen(tmp_path, tampered)["content"] == host.read_text()
    assert tampered.environment["data"]["extract"] == sha256(host)


WAITING = f"""\
data: [{{name: extract, path: data/extract.csv, mount: /data/extract.csv}}]
services:
  app: {{image: {BASE}, command: [sleep, infinity]}}
steps:
  - name: wait
    service: app
    run: "touch /tmp/waiting; while [ ! -e /tmp/go ]; do sleep 0.1; done"
    timeout: 2m
"""


@pytest.fixture
def holding_run(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> Iterator[Callable[[], Path]]:
    """Starts a `poc run` whose step waits until the test ends: meanwhile its entry is in use."""
    started: list[tuple[subprocess.Popen[bytes], Container]] = []

    def start() -> Path:
        path = extract_scenario(scenario, "cache-holder", WAITING)
        argv = [*POC, "run", "--out", str(tmp_path / "runs"), str(path)]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            for container in client.containers.list(
                filters={"label": [f"{label.SCENARIO}=cache-holder", f"{label.SERVICE}=app"]}
            ):
                if container.exec_run(["test", "-e", "/tmp/waiting"]).exit_code == 0:
                    started.append((process, container))
                    return path
            time.sleep(0.1)
        process.kill()
        pytest.fail("the holding run never reached its step")

    yield start
    for process, container in started:
        container.exec_run(["touch", "/tmp/go"])
        assert process.wait(timeout=120) == 0


def test_eviction_keeps_the_cap_and_never_takes_an_entry_a_run_mounts(
    scenario: ScenarioFactory,
    run: Callable[..., RunResult],
    holding_run: Callable[[], Path],
    tmp_path: Path,
    client: docker.DockerClient,
) -> None:
    """With a cap of one byte, a run that fills a new entry removes every other entry that no
    container mounts (all of them on this engine: they are only a cache)."""
    idle = extract_scenario(scenario, "cache-idle")
    assert run(idle).error is None
    idle_entry = entry_for(client, idle)
    held_entry = entry_for(client, holding_run())
    filler = extract_scenario(scenario, "cache-filler")
    tiny = {**os.environ, datacache.CAP_VARIABLE: "1"}
    done = poc("run", "--out", str(tmp_path / "runs"), str(filler), env=tiny)
    assert done.returncode == 0, done.stdout + done.stderr
    left = cache_ids(client)
    assert idle_entry.id not in left, "over the cap, an unused entry stays"
    assert held_entry.id in left, "evicted while a run mounts it"
    assert entry_for(client, filler).id in left  # the newest: its own run held it


def test_poc_clean_cache_removes_every_entry_but_those_in_use(
    scenario: ScenarioFactory,
    run: Callable[..., RunResult],
    holding_run: Callable[[], Path],
    client: docker.DockerClient,
) -> None:
    idle = extract_scenario(scenario, "cache-idle")
    assert run(idle).error is None
    idle_entry = entry_for(client, idle)
    held_entry = entry_for(client, holding_run())
    cleaned = poc("clean", "--cache")
    assert cleaned.returncode == 0, cleaned.stderr
    assert f"removed volume {idle_entry.data_volume} (data cache" in cleaned.stdout
    assert "data cache entries in use (a container mounts them)" in cleaned.stdout
    left = cache_ids(client)
    assert idle_entry.id not in left and held_entry.id in left
    assert "--cache" in poc("clean", "--help").stdout


def test_two_runs_at_once_share_one_cache_entry_and_both_pass(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    body = SCENARIO + (
        "acceptance:\n  criteria:\n"
        "    - {id: read-only, check: {type: output, step: tamper, contains: Read-only}}\n"
        "    - {id: untouched, check: {type: output, step: tamper, not_contains: allowed}}\n"
    )
    path = extract_scenario(scenario, "cache-shared", body)
    out = str(tmp_path / "runs")
    assert poc("run", "--out", out, str(path)).returncode == 0  # fills the entries
    both = [
        subprocess.Popen(
            [*POC, "run", "--out", out, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300)[0] for process in both]
    assert [process.returncode for process in both] == [0, 0], outputs
    results = [json.loads(result_file(output).read_text()) for output in outputs]
    assert [r["environment"]["data_cache"]["extract"] for r in results] == ["cached"] * 2
    assert results[0]["environment"]["data"] == results[1]["environment"]["data"]
    assert len(entries_holding(client, path)) == 1


def result_file(output: str) -> Path:
    line = next(line for line in output.splitlines() if "results:" in line)
    return Path(line.split("results:")[1].strip()) / "result.json"


def start_big_run(
    scenario: ScenarioFactory, tmp_path: Path, name: str, write: Callable[[Any], object]
) -> subprocess.Popen[bytes]:
    """`poc run` of a scenario whose one data file, /data/big.bin, `write` fills."""
    path = scenario(
        f"""\
        data: [{{name: big, path: data/big.bin, mount: /data/big.bin}}]
        services:
          app: {{image: {BASE}, command: [sleep, infinity]}}
        steps:
          - {{name: look, service: app, run: [ls, /data]}}
        """,
        name=name,
    )
    (path.parent / "data").mkdir()
    with (path.parent / "data" / "big.bin").open("wb") as big:
        write(big)
    argv = [*POC, "run", "--out", str(tmp_path / "runs"), str(path)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_fill_killed_halfway_is_swept_by_the_next_poc_clean(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    """64 GiB (sparse on the host: nothing read from disk) take minutes to copy, so the kill
    lands while the engine is still extracting into the entry, and the entry is unfinished
    (no stamp) when the run dies; the sweep of `poc clean` right after takes it."""
    before = cache_ids(client)
    process = start_big_run(
        scenario, tmp_path, "cache-killed", lambda big: big.truncate(64 * 1024**3)
    )
    try:
        filling = wait_for_a_fill(client, before, "cache-killed")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    (entry,) = [entry for entry in datacache.entries(client) if entry.id == filling]
    assert entry.key is None, "the fill ended before the kill: nothing half done to sweep"
    cleaned = poc("clean")
    assert cleaned.returncode == 0, cleaned.stderr
    assert filling not in cache_ids(client), cleaned.stdout
    run_objects = client.containers.list(
        all=True, filters={"label": f"{label.SCENARIO}=cache-killed"}
    )
    assert run_objects == []


def test_during_a_big_copy_poc_clean_answers_and_sigterm_ends_the_copy_at_once(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    """The engine answers no inspect of a container it is copying into: `poc clean` (the sweep
    every run starts with) reads labels from the listing alone, so it answers meanwhile and
    leaves the live run be. The run does not wait for the upload to end either: 64 GiB (sparse
    on the host, so nothing is read from disk) would take minutes; the copy stops at its next
    chunk, the half-filled entry is abandoned, and the run ends 130 with its result written."""
    before = cache_ids(client)
    process = start_big_run(scenario, tmp_path, "cache-cut", lambda big: big.truncate(64 * 1024**3))
    try:
        filling = wait_for_a_fill(client, before, "cache-cut")
        time.sleep(3)  # into the copy
        cleaned = subprocess.run(
            [*POC, "clean"], capture_output=True, text=True, timeout=60, check=False
        )
        assert cleaned.returncode == 0, cleaned.stderr
        assert "left" in cleaned.stdout and "live runs" in cleaned.stdout, cleaned.stdout
        assert process.poll() is None, "the copy ended before the test could cut it"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 130  # the whole copy would take minutes
    finally:
        process.kill()
    assert filling not in cache_ids(client), "the half-filled entry was kept"
    of_the_run = {"label": f"{label.SCENARIO}=cache-cut"}
    assert client.containers.list(all=True, filters=of_the_run) == []
    assert client.networks.list(filters=of_the_run) == []
    result = next((tmp_path / "runs" / "cache-cut").glob("*/result.json")).read_text()
    assert '"error": "interrupted"' in result


def wait_for_a_fill(client: docker.DockerClient, before: set[str], scenario: str) -> str:
    """The id of the new entry the scenario's run is filling, once its filler mounts it (a
    container whose creation is still on its way when the run dies lands later, for the sweep
    after); other runs on a shared engine fill entries of their own meanwhile. The listing is
    sparse: the engine answers no inspect of a container it is copying into until the copy
    ends, and a kill after that would find the fill complete."""
    ours = {"label": f"{label.SCENARIO}={scenario}"}
    for _ in range(600):
        for entry in datacache.entries(client):
            if entry.id in before or entry.key is not None or entry.volume is None:
                continue
            if client.containers.list(
                all=True, filters={**ours, "volume": entry.volume}, sparse=True
            ):
                return entry.id
        time.sleep(0.05)
    pytest.fail("no fill started")
