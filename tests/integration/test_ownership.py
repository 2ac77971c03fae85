"""Liveness no state folder can fool: a run's objects are removed only when the process that
owns them has provably ended. Another state folder or HOME, another user's kept sandbox, or an
owner on another machine sharing the engine never lets a sweep or `poc clean` take what may be
live."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import docker
import pytest

from poc_runner.backends.docker.sweep import sweep
from poc_runner.sandbox import labels as label
from poc_runner.sandbox.owner import this_process

from .conftest import BASE, POC, ScenarioFactory, labelled, poc
from .test_lifecycle import HANGING, run_ids, wait_for_step


def left(said: str, why: str) -> int:
    """How many objects `poc clean` said it left, and why. Other sessions sharing the engine
    may have live runs and sandboxes of their own: the count is at least this test's."""
    found = re.search(rf"left (\d+) object\(s\) of {re.escape(why)}", said)
    return int(found[1]) if found else 0


def elsewhere(tmp_path: Path, name: str) -> dict[str, str]:
    """The environment of someone with a state folder and HOME of their own."""
    home = tmp_path / f"home-{name}"
    return {**os.environ, "POC_STATE_DIR": str(home / "state"), "HOME": str(home)}


def test_a_live_run_survives_clean_and_sweeps_from_another_state_folder(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    process = subprocess.Popen(
        [*POC, "run", str(scenario(HANGING, name="alive")), "--out", str(tmp_path / "runs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=elsewhere(tmp_path, "runner"),
    )
    try:
        wait_for_step(process)
        (run_id,) = run_ids(client, "alive")
        before = len(labelled(client, run_id))
        cleaned = poc("clean", env=elsewhere(tmp_path, "cleaner"))
        assert cleaned.returncode == 0, cleaned.stderr
        assert left(cleaned.stdout, "live runs") >= 2, cleaned.stdout  # others' may be live too
        quick = scenario(  # its service runs until removed: python3, the image's, would exit
            f"services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}\n", name="sweeper"
        )
        swept = poc(
            "run", str(quick), "--out", str(tmp_path / "runs"), env=elsewhere(tmp_path, "x")
        )
        assert swept.returncode == 0, swept.stdout + swept.stderr  # its sweep ran too
        assert len(labelled(client, run_id)) == before
        (container,) = client.containers.list(filters={"label": f"{label.RUN}={run_id}"})
        assert container.status == "running"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 130
    assert labelled(client, run_id) == []


def test_a_killed_run_is_swept_by_anyone_whatever_their_state_folder(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    process = subprocess.Popen(
        [*POC, "run", str(scenario(HANGING, name="killed-elsewhere")), "--out", str(tmp_path)],
        stderr=subprocess.PIPE,
        text=True,
        env=elsewhere(tmp_path, "runner"),
    )
    wait_for_step(process)
    (run_id,) = run_ids(client, "killed-elsewhere")
    process.kill()
    process.wait()
    assert labelled(client, run_id), "SIGKILL skips teardown, so objects remain"
    cleaned = poc("clean", env=elsewhere(tmp_path, "cleaner"))
    assert cleaned.returncode == 0, cleaned.stderr
    assert labelled(client, run_id) == []


@pytest.fixture
def planted(client: docker.DockerClient) -> Iterator[dict[str, str]]:
    """The labels of a run made by someone else; `planted` containers get them, and are
    removed after the test whatever happened."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    me = this_process()
    assert me is not None
    dead = replace(me, pid=ended.pid, started=0)
    marks = {
        label.RUN: "20260101T000000Z-0wner5",
        label.SCENARIO: "planted",
        label.HOST: os.uname().nodename,
        label.OWNER: dead.label(),
        label.USER: "ana@elsewhere",
    }
    yield marks
    mine = {"label": f"{label.RUN}={marks[label.RUN]}"}
    for container in client.containers.list(all=True, filters=mine):
        container.remove(force=True)
    for network in client.networks.list(filters=mine):
        network.remove()


def plant(client: docker.DockerClient, marks: dict[str, str]) -> str:
    container = client.containers.create(BASE, ["true"], labels=marks, network_disabled=True)
    return str(container.id)


def exists(client: docker.DockerClient, container_id: str) -> bool:
    try:
        client.containers.get(container_id)
    except docker.errors.NotFound:
        return False
    return True


def test_another_users_kept_sandbox_is_left_unless_all(
    client: docker.DockerClient, planted: dict[str, str]
) -> None:
    theirs = plant(client, {**planted, label.KEPT: "true"})
    cleaned = poc("clean")
    assert cleaned.returncode == 0, cleaned.stderr
    assert exists(client, theirs)
    assert left(cleaned.stdout, "other users' sandboxes") >= 1, cleaned.stdout
    assert poc("clean", "--all").returncode == 0
    assert not exists(client, theirs)


def test_a_run_owned_on_another_machine_is_left_unless_all(
    client: docker.DockerClient, planted: dict[str, str]
) -> None:
    """A shared remote engine: an owner on another machine cannot be checked from here."""
    other = replace(this_process(), boot="a-boot-of-another-machine")  # type: ignore[type-var]
    theirs = plant(client, {**planted, label.OWNER: other.label()})
    cleaned = poc("clean")
    assert exists(client, theirs)
    assert "cannot be checked from here" in cleaned.stdout
    assert poc("clean", "--all").returncode == 0
    assert not exists(client, theirs)


def test_two_sweeps_at_once_take_a_dead_run_without_a_problem(
    client: docker.DockerClient, planted: dict[str, str]
) -> None:
    """Every `poc run` sweeps first, so two started together sweep the same dead run: the
    engine refuses the second removal of a container while the first is under way, and the
    container holds its network until then. Each sweep waits the other's removal out."""
    for round_ in range(3):
        network = client.networks.create(f"poc-planted-{round_}-net", labels=planted)
        client.containers.run(
            BASE, ["sleep", "600"], detach=True, labels=planted, network=network.name
        )
        with ThreadPoolExecutor(max_workers=2) as pool:
            sweeps = [
                pool.submit(sweep, client, include_kept=False, scenario="planted") for _ in "ab"
            ]
            problems = [problem for done in sweeps for problem in done.result().problems]
        assert problems == []
        assert labelled(client, planted[label.RUN]) == []
