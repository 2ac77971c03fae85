"""The loop on a vendor's stack: the shipped `stock-alerts` (targets of one Dockerfile, a
migration job others wait for) goes `poc up`, `poc run --reuse` twice, `poc down`; a sandbox
removed since `poc up` is refused at once, naming it and the fix; a port another sandbox holds
is said with the sandbox that holds it and how to free it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from poc_runner.sandbox import labels as label

from .conftest import BASE, ROOT, ScenarioFactory, labelled, poc, results_of

STOCK_ALERTS = ROOT / "scenarios" / "stock-alerts"


@pytest.fixture
def stock_alerts_up(own_user: str, client: docker.DockerClient) -> Iterator[str]:
    """`poc up` of the shipped example, its run id; `poc down` after, whatever happened."""
    started = poc("up", str(STOCK_ALERTS))
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        (run_id,) = {
            c.labels[label.RUN]
            for c in client.containers.list(
                all=True,
                filters={
                    "label": [
                        f"{label.SCENARIO}=stock-alerts",
                        f"{label.USER}={own_user}@{socket.gethostname()}",
                    ]
                },
            )
        }
        yield run_id
    finally:
        poc("down", str(STOCK_ALERTS))


def test_the_shipped_compose_example_goes_up_runs_again_twice_and_down(
    stock_alerts_up: str, tmp_path: Path, client: docker.DockerClient
) -> None:
    """Its API and migration job build two targets of one Dockerfile (the lookup of a reused
    sandbox once left the target out, and refused both as changed), and the job, done at
    `poc up`, is no crash on reuse (it once said "service 'migrate' stopped (exit code 0)")."""
    for _ in range(2):
        again = poc("run", "--reuse", str(STOCK_ALERTS), "--out", str(tmp_path / "runs"))
        assert again.returncode == 0, again.stdout + again.stderr
        result = results_of(again.stdout)
        assert (result["verdict"], result["reused"]) == ("pass", stock_alerts_up)
        assert result["score"] == 100.0
    (migrate,) = client.containers.list(
        all=True, filters={"label": [f"{label.RUN}={stock_alerts_up}", f"{label.SERVICE}=migrate"]}
    )
    assert (migrate.status, migrate.attrs["State"]["ExitCode"]) == ("exited", 0)  # not run again
    down = poc("down", str(STOCK_ALERTS))
    assert down.returncode == 0, down.stderr
    assert labelled(client, stock_alerts_up) == []


QUICK = f"""\
services:
  app: {{image: {BASE}, command: [sleep, infinity]}}
  side: {{image: {BASE}, command: [sleep, infinity]}}
steps: [{{name: hello, service: app, run: echo hello}}]
"""


def test_a_sandbox_removed_since_up_is_refused_at_the_start_naming_it_and_the_fix(
    own_user: str, scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    path = scenario(QUICK, name="removed-since")
    out = str(tmp_path / "runs")
    assert poc("up", str(path)).returncode == 0
    try:
        (side,) = client.containers.list(
            filters={"label": [f"{label.SCENARIO}=removed-since", f"{label.SERVICE}=side"]}
        )
        run_id = side.labels[label.RUN]
        side.remove(force=True)  # by hand, or half a `poc down` in another terminal
        for refused in (
            poc("run", "--reuse", str(path), "--out", out),
            poc("shell", str(path), "side"),
        ):
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert refused.stderr.count("\n") == 1, refused.stderr  # one sentence
            assert (
                f"the sandbox of removed-since left up by run {run_id} has no container for side"
                f" (removed since `poc up`, or new in the scenario): run `poc down {path}`, then"
                f" `poc up {path}`" in refused.stderr
            )
        assert not (tmp_path / "runs" / "removed-since").exists(), "refused before anything ran"
    finally:
        assert poc("down", str(path)).returncode == 0
    for refused in (poc("run", "--reuse", str(path), "--out", out), poc("shell", str(path), "app")):
        assert refused.returncode == 2
        assert (
            "error: removed-since is not up (none was started, or `poc down` or `poc clean`"
            f" removed it since): start it with `poc up {path}`\n" == refused.stderr
        )
    assert labelled(client, run_id) == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_port_another_sandbox_holds_names_that_sandbox_and_how_to_free_it(
    own_user: str, scenario: ScenarioFactory, client: docker.DockerClient
) -> None:
    port = free_port()
    body = f"services: {{web: {{image: {BASE}, command: [sleep, infinity], ports: ['{port}:8080']}}}}\n"
    first, second = scenario(body, name="holds-port"), scenario(body, name="wants-port")
    assert poc("up", str(first)).returncode == 0
    try:
        (holder,) = client.containers.list(
            filters={"label": [f"{label.SCENARIO}=holds-port", f"{label.SERVICE}=web"]}
        )
        clash = poc("up", str(second))
        assert clash.returncode == 3, clash.stdout + clash.stderr
        assert (
            f"port {port}/tcp is held by the sandbox of holds-port that {own_user}@{socket.gethostname()}"
            f" left up (run {holder.labels[label.RUN]}): free it with `poc down {first.parent}`"
        ) in clash.stderr
        assert (
            client.containers.list(all=True, filters={"label": f"{label.SCENARIO}=wants-port"})
            == []
        )
    finally:
        assert poc("down", str(first)).returncode == 0
    with socket.socket() as taken:  # now a program of this machine holds it
        taken.bind(("127.0.0.1", port))
        taken.listen()
        clash = poc("up", str(second))
    assert clash.returncode == 3
    assert (
        f"port {port}/tcp is held by a program of this machine outside any container"
        in clash.stderr
    )
