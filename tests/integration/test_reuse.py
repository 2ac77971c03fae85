"""The sales engineer's loop: `poc up` once, then `poc run --reuse` in seconds, as often as
needed, on the sandbox left up; `poc run --keep` leaves one up with its ports published."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from poc_runner.sandbox import labels as label

from .conftest import BASE, POC, WEB_SERVICE, ScenarioFactory, labelled, poc

SLOW_API = f"""\
data: [{{name: numbers, path: data/numbers.txt, mount: /data/numbers.txt, services: [client]}}]
services:
  api:
    image: {BASE}
    command: [sh, -c, "sleep 5; exec python3 -m http.server 8080"]
    healthcheck: {{test: [CMD, python3, -c, "import urllib.request as u; u.urlopen('http://localhost:8080/')"], interval: 1s, retries: 30}}
    ports: ["8080"]
  client:
    image: {BASE}
    command: [sleep, infinity]
    depends_on: {{api: {{condition: service_healthy}}}}
steps:
  - {{name: fetch, service: client, run: "python3 -c \\"import urllib.request as u; print(u.urlopen('http://api:8080/').status)\\""}}
  - {{name: total, service: client, run: "python3 -c \\"print('total', sum(int(x) for x in open('/data/numbers.txt')))\\""}}
acceptance:
  criteria:
    - {{id: fetched, check: {{type: output, step: fetch, contains: "200"}}}}
    - {{id: total, check: {{type: output, step: total, contains: "total 6"}}}}
"""


@pytest.fixture
def slow_api(own_user: str, scenario: ScenarioFactory) -> Iterator[Path]:
    """A scenario whose API takes 5 s to become healthy; whatever is left up goes after."""
    path = scenario(SLOW_API, name="slow-api", files={"data/numbers.txt": "1\n2\n3\n"})
    yield path
    poc("down", str(path))


def timed(*args: str) -> tuple[float, object]:
    started = time.monotonic()
    done = poc(*args)
    return time.monotonic() - started, done


def result_of(out: Path, stdout: str) -> dict[str, object]:
    folder = next(
        line.split("results:")[1].strip() for line in stdout.splitlines() if "results:" in line
    )
    return dict(json.loads((Path(folder) / "result.json").read_text()))


def test_up_then_reuse_runs_in_a_fraction_of_a_full_run_and_leaves_it_up(
    slow_api: Path, tmp_path: Path, client: docker.DockerClient
) -> None:
    out = str(tmp_path / "runs")
    full, done = timed("run", str(slow_api), "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
    assert poc("up", str(slow_api)).returncode == 0
    reused, done = timed("run", "--reuse", str(slow_api), "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
    assert reused < full / 2, f"reuse took {reused:.1f} s against {full:.1f} s for a full run"
    result = result_of(tmp_path, done.stdout)  # type: ignore[attr-defined]
    assert result["reused"] is not None
    assert "not a clean one" in done.stdout  # type: ignore[attr-defined]
    assert f"Stop:  poc down {slow_api}" in done.stdout  # type: ignore[attr-defined]
    running = client.containers.list(
        filters={"label": [f"{label.SCENARIO}=slow-api", f"{label.KEPT}=true"]}
    )
    assert {c.labels[label.SERVICE] for c in running} >= {"api", "client"}, "left up"
    listed = poc("history", "slow-api").stdout
    assert "PASS (reused)" in listed


def test_reuse_copies_changed_data_again_and_refuses_changed_services(
    slow_api: Path, tmp_path: Path
) -> None:
    out = str(tmp_path / "runs")
    assert poc("up", str(slow_api)).returncode == 0
    (slow_api.parent / "data" / "numbers.txt").write_text("1\n2\n3\n4\n")
    done = poc("run", "--reuse", str(slow_api), "--out", out)
    assert done.returncode == 1  # the data changed: total 10, not 6
    assert 'FAIL  total: "total 10", expected contains "total 6"' in done.stdout
    slow_api.write_text(slow_api.read_text().replace("sleep 5;", "sleep 4;"))
    refused = poc("run", "--reuse", str(slow_api), "--out", out)
    assert refused.returncode == 2
    assert "the services changed since the sandbox was brought up: api (command)" in refused.stderr
    assert f"`poc down {slow_api}`, then `poc up {slow_api}`" in refused.stderr


def test_reuse_with_nothing_up_says_how_to_get_one(slow_api: Path, tmp_path: Path) -> None:
    refused = poc("run", "--reuse", str(slow_api), "--out", str(tmp_path / "runs"))
    assert refused.returncode == 2
    assert (
        "slow-api is not up (none was started, or `poc down` or `poc clean` removed it since):"
        f" start it with `poc up {slow_api}`" in refused.stderr
    )


def test_keep_publishes_the_ports_and_says_how_to_use_it(
    slow_api: Path, tmp_path: Path, client: docker.DockerClient
) -> None:
    done = poc("run", "--keep", str(slow_api), "--out", str(tmp_path / "runs"))
    assert done.returncode == 0, done.stdout + done.stderr
    (endpoint,) = [line.split()[1] for line in done.stdout.splitlines() if "-> 8080/tcp" in line]
    assert endpoint.startswith("127.0.0.1:")
    with urllib.request.urlopen(f"http://{endpoint}/", timeout=10) as answer:
        assert answer.status == 200
    assert f"Shell: poc shell {slow_api} SERVICE" in done.stdout
    assert f"Stop:  poc down {slow_api}" in done.stdout
    assert poc("down", str(slow_api)).returncode == 0
    run_id = result_of(tmp_path, done.stdout)["run_id"]
    assert labelled(client, str(run_id)) == []


def test_watch_runs_again_after_a_change_and_ctrl_c_leaves_the_sandbox_up(
    slow_api: Path, tmp_path: Path, client: docker.DockerClient
) -> None:
    assert poc("up", str(slow_api)).returncode == 0
    watching = subprocess.Popen(
        [*POC, "watch", str(slow_api), "--out", str(tmp_path / "runs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in watching.stdout or []], daemon=True
    ).start()

    def until(marker: str) -> list[str]:
        seen: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            if marker in seen[-1]:
                return seen
        pytest.fail(f"no {marker!r} within 120 s; saw {seen}")

    try:
        first = until("results:")
        assert any("slow-api: PASS" in line for line in first)
        until("watching")
        (slow_api.parent / "data" / "numbers.txt").write_text("1\n2\n3\n4\n")
        second = until("results:")
        assert any("changed: data/numbers.txt" in line for line in second)
        assert any("slow-api: FAIL" in line for line in second)  # total 10 now
        assert any('total: "total 10", expected contains "total 6"' in line for line in second)
    finally:
        watching.send_signal(signal.SIGINT)
        assert watching.wait(timeout=30) == 130
    running = client.containers.list(
        filters={"label": [f"{label.SCENARIO}=slow-api", f"{label.KEPT}=true"]}
    )
    assert {c.labels[label.SERVICE] for c in running} >= {"api", "client"}, "Ctrl-C left it up"


def test_checks_from_the_network_run_on_a_reused_sandbox_again_and_again(
    own_user: str, scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    """An `http` check is sent from a probe each run makes on the sandbox's network; the probe
    goes with the run, so the next run on the same sandbox makes its own."""
    path = scenario(
        f"""\
        services:
          web: {WEB_SERVICE}
        acceptance:
          criteria:
            - {{id: answers, check: {{type: http, url: "http://web:8080/", status: 200}}}}
        """,
        name="reused-probe",
    )
    try:
        assert poc("up", str(path)).returncode == 0
        kept = {
            c.id
            for c in client.containers.list(filters={"label": f"{label.SCENARIO}=reused-probe"})
        }
        for _ in range(2):
            done = poc("run", "--reuse", str(path), "--out", str(tmp_path / "runs"))
            assert done.returncode == 0, done.stdout + done.stderr
            now = client.containers.list(
                all=True, filters={"label": f"{label.SCENARIO}=reused-probe"}
            )
            assert {c.id for c in now} == kept, [c.name for c in now]
    finally:
        poc("down", str(path))
