"""The head start (backends/docker/headstart.py): while the file is validated, the engine makes the
run's network and a holder for each service that waits on another's health. That service
joins its holder's network namespace: it keeps its name on the network and is reached by it,
and the holder is confined at least as tightly as a service. A file that turns out invalid, or a
head start that guessed the wrong scenario, leaves nothing behind."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import docker
import pytest

from poc_runner.backend import Reservation
from poc_runner.backends.docker import DockerEngine, headstart, holder
from poc_runner.backends.docker.headstart import Draft, HeadStart
from poc_runner.backends.docker.sweep import sweep
from poc_runner.errors import InvalidInput
from poc_runner.pipeline import Finished, Options, run_all
from poc_runner.progress import Progress
from poc_runner.result import RunResult
from poc_runner.sandbox import labels as label

from .conftest import BASE, WEB_SERVICE, ScenarioFactory, labelled, run_folder

WAITING = f"""\
services:
  server: {WEB_SERVICE}
  client:
    image: {BASE}
    command: [python3, -m, http.server, "8081"]
    depends_on: {{server: {{condition: service_healthy}}}}
steps:
  - name: to-server
    service: client
    run: python3 -c "import urllib.request as u; print(u.urlopen('http://server:8080/').status)"
  - name: to-client
    service: server
    run: python3 -c "import urllib.request as u; print(u.urlopen('http://client:8081/').status)"
  - name: hostname
    service: client
    run: python3 -c "import socket; print(socket.gethostname())"
"""


class GivenHeadStarts(DockerEngine):
    """The engine, with the head starts the test made instead of its own."""

    def __init__(self, client: docker.DockerClient, given: dict[Path, HeadStart]) -> None:
        super().__init__(client)
        self.given: dict[Path, Reservation] = dict(given)

    def reserve(
        self, paths: Sequence[Path], *, keep: bool
    ) -> AbstractContextManager[dict[Path, Reservation]]:
        return nullcontext(self.given)


def run_with(
    tmp_path: Path, client: docker.DockerClient, head_starts: dict[Path, HeadStart], path: Path
) -> list[Finished]:
    engine = GivenHeadStarts(client, head_starts)
    options = Options(out=tmp_path / "runs")
    return run_all([path], options, on_event=Progress(io.StringIO()), engine=engine)


def test_a_service_that_waits_on_health_joins_its_confined_holder(
    scenario: ScenarioFactory,
    run: Callable[..., RunResult],
    tmp_path: Path,
    client: docker.DockerClient,
) -> None:
    result = run(scenario(WAITING, name="held"), keep=True)
    try:
        assert result.verdict == "pass", result.error
        steps = run_folder(tmp_path, result) / "steps"
        assert (steps / "to-server.out").read_text().strip() == "200"
        assert (steps / "to-client.out").read_text().strip() == "200"
        assert (steps / "hostname.out").read_text().strip() == "client"
        by_service = {
            c.labels[label.SERVICE]: c
            for c in client.containers.list(filters={"label": f"{label.RUN}={result.run_id}"})
        }
        assert set(by_service) == {"server", "client", "(client)"}
        holder = by_service["(client)"]
        assert by_service["client"].attrs["HostConfig"]["NetworkMode"] == f"container:{holder.id}"
        assert by_service["server"].attrs["HostConfig"]["NetworkMode"].startswith("poc-")
        assert holder.name == f"poc-{result.run_id}_network-client"
        host = holder.attrs["HostConfig"]
        assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
        assert host["ReadonlyRootfs"] and not host["Privileged"] and not host["Binds"]
        assert "no-new-privileges:true" in host["SecurityOpt"]
        assert host["Memory"] == 8 * 1024**2 and host["PidsLimit"] == 16
        assert holder.attrs["Config"]["User"] == "65534:65534"
    finally:
        sweep(client, include_kept=True, only_kept=True, scenario="held")
    assert labelled(client, result.run_id) == []


def test_an_invalid_file_removes_what_its_head_start_made(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    path = scenario(WAITING + "  - {name: nowhere, service: nobody, run: 'true'}\n", name="bad")
    with (
        pytest.raises(InvalidInput, match="nobody"),
        headstart.head_starts(lambda: client, [path], keep=False) as head_starts,
    ):
        (head,) = head_starts.values()
        head.made()  # once everything is made
        assert len(labelled(client, head.run_id)) == 2, "the network and the client's holder"
        run_with(tmp_path, client, head_starts, path)
    assert labelled(client, head.run_id) == []


def test_a_head_start_that_guessed_wrong_is_removed_and_the_run_goes_on(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    path = scenario(WAITING, name="guessed")
    wrong = HeadStart(client, Draft("someone-else", "isolated", ()), label.new_run_id(), False)
    wrong.made()  # once everything is made
    assert labelled(client, wrong.run_id), "its network"
    (finished,) = run_with(tmp_path, client, {path: wrong}, path)  # takes it, finds it wrong
    result = finished.result
    assert result.verdict == "pass", result.error
    assert result.run_id != wrong.run_id
    assert labelled(client, wrong.run_id) == []


def test_the_pause_image_is_made_on_first_use(
    scenario: ScenarioFactory,
    run: Callable[..., RunResult],
    client: docker.DockerClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A machine that never ran poc-runner has no pause image, and no registry to pull from.
    The run's pause image is one of the test's own: the engine's may be in use (a sandbox left
    up), and the suite never takes what the user's engine holds."""
    tag = f"poc-test-{uuid.uuid4().hex[:12]}/pause:1"
    monkeypatch.setattr(holder, "PAUSE_IMAGE", tag)
    try:
        result = run(scenario(WAITING, name="first-use"))
        assert result.verdict == "pass", result.error
        image = client.images.get(tag)
        assert image.attrs["Architecture"] == client.version()["Arch"]
        assert image.attrs["Size"] < 1024
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(tag)
