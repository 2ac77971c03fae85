"""A sandbox taken away under a run is the sandbox's error, never the product's: `poc down` or
`poc clean` while `poc run --reuse` runs a step makes the verdict `error`, naming what removed
it, with an incident on record. Two `poc up` of one scenario at once make one sandbox: the
second is refused, naming the first."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import docker
import pytest

from poc_runner.sandbox import labels as label

from .conftest import BASE, POC, WAIT_FOR_GO, ScenarioFactory, poc

WAITING = f"""\
services:
  app: {{image: {BASE}, command: [sleep, infinity]}}
steps:
  - name: wait
    service: app
    run: "{WAIT_FOR_GO}"
    timeout: 2m
acceptance: {{criteria: [{{id: waited, check: {{type: exit_code, step: wait}}}}]}}
"""


def wait_until_waiting(client: docker.DockerClient, scenario: str) -> None:
    selector = [f"{label.SCENARIO}={scenario}", f"{label.SERVICE}=app"]
    for _ in range(600):
        for container in client.containers.list(filters={"label": selector}):
            if container.exec_run(["test", "-e", "/tmp/waiting"]).exit_code == 0:
                return
        time.sleep(0.1)
    pytest.fail("the run never reached its step")


@pytest.mark.parametrize("remover", [["down"], ["clean"]])
def test_a_sandbox_removed_under_a_reuse_is_an_error_naming_what_removed_it(
    scenario: ScenarioFactory, client: docker.DockerClient, tmp_path: Path, remover: list[str]
) -> None:
    name = f"removed-by-{remover[0]}"
    path = scenario(WAITING, name=name)
    assert poc("up", str(path)).returncode == 0
    out = tmp_path / "runs"
    running = subprocess.Popen(
        [*POC, "run", "--reuse", str(path), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_waiting(client, name)
        removed = poc(*remover, *([str(path)] if remover == ["down"] else []))
        assert removed.returncode == 0, removed.stdout + removed.stderr
        stdout, stderr = running.communicate(timeout=120)
    finally:
        running.kill()
        poc("down", str(path))
    assert running.returncode == 3, stdout + stderr
    (found,) = out.rglob("result.json")
    result = json.loads(found.read_text())
    assert result["verdict"] == "error"
    assert "service 'app' was removed at" in result["error"]
    assert f"by `poc {remover[0]}` (pid " in result["error"]
    assert "the product did not stop" in result["error"]
    (incident,) = result["incidents"]
    assert (incident["service"], incident["kind"]) == ("app", "removed")
    assert 0 < incident["at_s"] < 120  # from the run's start (it once counted from 1970)
    assert "removed under the run" in stdout


def test_two_poc_up_of_one_scenario_at_once_make_one_sandbox(
    scenario: ScenarioFactory, client: docker.DockerClient
) -> None:
    """Both start together; the service takes seconds to be healthy, so each finds none up
    when it looks. One brings it up, the other is refused, naming the first."""
    path = scenario(
        f"""\
        services:
          app:
            image: {BASE}
            command: [sh, -c, "sleep 3; exec python3 -m http.server 8080"]
            healthcheck: {{test: [CMD, python3, -c, "import urllib.request as u; u.urlopen('http://localhost:8080/')"], interval: 1s, retries: 30}}
        """,
        name="up-twice",
    )
    try:
        both = [
            subprocess.Popen(
                [*POC, "up", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=120) for process in both]
    finally:
        kept = client.containers.list(
            all=True, filters={"label": [f"{label.SCENARIO}=up-twice", f"{label.KEPT}=true"]}
        )
        poc("down", str(path))
    codes = sorted((process.returncode, index) for index, process in enumerate(both))
    assert [code for code, _ in codes] == [0, 3], outputs
    first, second = both[codes[0][1]], outputs[codes[1][1]]
    (run_id,) = {container.labels[label.RUN] for container in kept}  # one sandbox
    assert f"up-twice is up (run {run_id})" in outputs[codes[0][1]][0]
    named = [  # while the first comes up; or, on a slow machine, once it is
        f"being brought up by another `poc up` (pid {first.pid},",
        f"up-twice is already up (run {run_id})",
    ]
    assert any(words in second[1] for words in named), second


def test_poc_watch_stops_and_says_so_once_its_sandbox_is_gone(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario(
        f"""\
        services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
        steps: [{{name: hello, service: app, run: echo hello}}]
        """,
        name="watched",
    )
    assert poc("up", str(path)).returncode == 0
    watching = subprocess.Popen(
        [*POC, "watch", str(path), "--out", str(tmp_path / "runs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watching.stdout is not None
        for line in watching.stdout:  # the first round, then waiting for a change
            if line.startswith("watching "):
                break
        assert poc("down", str(path)).returncode == 0
        code = watching.wait(timeout=30)  # it asks every few seconds
        stderr = watching.stderr.read() if watching.stderr else ""
    finally:
        watching.kill()
        poc("down", str(path))
    assert code == 3, stderr
    assert "the sandbox of watched is gone (removed by `poc down` (pid" in stderr
    assert "stopped watching" in stderr
    assert "still up" not in stderr
