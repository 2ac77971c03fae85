"""Teardown always happens: on interruption (exit 130), after SIGKILL (`poc clean`), when a
service fails to come up (exit 3, with its logs); concurrent runs stay apart; `poc up`
publishes ports on 127.0.0.1 only, through a confined forwarder, and hardens every container
(test_ports.py proves the service itself gets no route out)."""

from __future__ import annotations

import secrets
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from poc_runner.result import RunResult
from poc_runner.sandbox import labels as label

from .conftest import BASE, POC, ScenarioFactory, labelled, poc

HANGING = f"""\
services: {{app: {{image: {BASE}, command: [sleep, infinity]}}}}
steps: [{{name: wait, service: app, run: sleep 600, timeout: 10m}}]
"""


def start_run(path: Path, tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*POC, "run", str(path), "--out", str(tmp_path / "runs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_step(process: subprocess.Popen[str]) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        if "step wait: running" in line:
            return
    pytest.fail(f"the run ended before its step started (exit {process.wait()})")


def run_ids(client: docker.DockerClient, scenario: str) -> set[str]:
    containers = client.containers.list(all=True, filters={"label": f"{label.SCENARIO}={scenario}"})
    return {c.labels[label.RUN] for c in containers}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_a_run_exits_130_and_leaves_nothing(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient, sig: signal.Signals
) -> None:
    name = f"interrupt-{sig.name.lower()}"
    process = start_run(scenario(HANGING, name=name), tmp_path)
    wait_for_step(process)
    ids = run_ids(client, name)
    assert len(ids) == 1
    process.send_signal(sig)
    assert process.wait(timeout=30) == 130
    assert labelled(client, ids.pop()) == []
    result = next((tmp_path / "runs" / name).glob("*/result.json")).read_text()
    assert '"verdict": "error"' in result and '"error": "interrupted"' in result


def test_sigterm_during_an_image_build_stops_the_build_at_once(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    """The run does not wait for a long `RUN` to end: the build's stream is cut, the engine
    stops the build (its container goes too), and the run ends 130 with its result written."""
    token = secrets.token_hex(4)
    path = scenario(
        """\
        services: {app: {build: app, command: [sleep, infinity]}}
        steps: [{name: never, service: app, run: "true"}]
        """,
        name="slow-build",
        files={"app/Dockerfile": f"FROM {BASE}\nRUN echo building-{token} && sleep 617\n"},
    )
    process = start_run(path, tmp_path)
    try:
        building = wait_for_build_container(client, process, token)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 130  # the RUN step alone would take 617 s
    finally:
        process.kill()
    result = next((tmp_path / "runs" / "slow-build").glob("*/result.json")).read_text()
    assert '"error": "interrupted"' in result
    for _ in range(300):  # the engine removes the build's container once it notices
        if not client.containers.list(all=True, filters={"id": building}):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the build's RUN container was left behind")


def wait_for_build_container(
    client: docker.DockerClient, process: subprocess.Popen[str], token: str
) -> str:
    """The id of the container the build runs its `RUN` step in, once it exists."""
    assert process.stderr is not None
    for line in process.stderr:
        if "building image" in line:
            break
    for _ in range(300):
        for container in client.containers.list(all=True):
            if f"building-{token}" in " ".join(container.attrs["Config"]["Cmd"] or []):
                return str(container.id)
        time.sleep(0.1)
    pytest.fail("the build never started its RUN step")


def test_after_sigkill_poc_clean_removes_what_the_run_left(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    process = start_run(scenario(HANGING, name="killed"), tmp_path)
    wait_for_step(process)
    (run_id,) = run_ids(client, "killed")
    process.kill()
    process.wait()
    assert labelled(client, run_id), "SIGKILL skips teardown, so objects remain"
    cleaned = poc("clean")
    assert cleaned.returncode == 0, cleaned.stderr
    assert labelled(client, run_id) == []


def test_two_runs_of_one_scenario_at_once_do_not_collide(
    scenario: ScenarioFactory, tmp_path: Path, client: docker.DockerClient
) -> None:
    path = scenario(
        f"""\
        services:
          db: {{image: {BASE}, command: [python3, -m, http.server, "8080"]}}
          app: {{image: {BASE}, command: [sleep, infinity], depends_on: [db]}}
        steps:
          - name: talk
            service: app
            run: python3 -c "import time, urllib.request as u; time.sleep(1); u.urlopen('http://db:8080/')"
        """,
        name="twice",
    )
    runs = [start_run(path, tmp_path) for _ in range(2)]
    outcomes = [process.communicate(timeout=120) for process in runs]
    assert [process.returncode for process in runs] == [0, 0], outcomes
    assert len(list((tmp_path / "runs" / "twice").iterdir())) == 2
    assert run_ids(client, "twice") == set()


def test_a_service_that_never_becomes_healthy_is_a_sandbox_error_with_its_logs(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario(
        f"""\
        services:
          db:
            image: {BASE}
            command: [sh, -c, "echo starting the database; echo disk quota exceeded >&2; sleep 600"]
            healthcheck: {{test: [CMD, "false"], interval: 200ms, timeout: 1s, retries: 2}}
          app:
            image: {BASE}
            command: [sleep, infinity]
            depends_on: {{db: {{condition: service_healthy}}}}
        steps: [{{name: never, service: app, run: "true"}}]
        """,
        name="unhealthy",
    )
    done = poc("run", str(path), "--out", str(tmp_path / "runs"))
    assert done.returncode == 3
    assert "service 'db' never became healthy" in done.stdout
    assert "disk quota exceeded" in done.stdout


def test_a_healthcheck_failing_at_once_gives_up_with_composes_patience_and_says_how_far(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    """`interval: 1s, retries: 5`, each check failing at once: Compose gives up after about
    5 s; counting the default 30 s `timeout` for each would wait 155 s. Each counted attempt,
    and what the check said, is on the progress lines."""
    path = scenario(
        f"""\
        services:
          api:
            image: {BASE}
            command: [sleep, infinity]
            healthcheck: {{test: [CMD-SHELL, "echo connection refused on 8081; exit 1"], interval: 1s, retries: 5}}
        """,
        name="wrong-port",
    )
    started = time.monotonic()
    done = poc("run", str(path), "--out", str(tmp_path / "runs"))
    took = time.monotonic() - started
    assert done.returncode == 3
    assert "service 'api' never became healthy: 5 checks failed" in done.stdout
    assert "connection refused on 8081" in done.stdout
    assert took < 60, f"gave up after {took:.0f} s"  # 155 s when timeouts were counted
    for attempt in range(1, 6):
        assert (
            f"service api: waiting to be healthy: check {attempt}/5 failed: connection refused on 8081"
            in done.stderr
        )


def test_a_service_that_exits_while_it_is_brought_up_is_a_sandbox_error(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    """It exits while its healthcheck is awaited: the sandbox never came up. (One with no
    healthcheck that exits at once may be found only once the steps began: then it is on record
    as an incident, and it is still a sandbox error when it died before the first step.)"""
    path = scenario(
        f"""\
        services:
          app:
            image: {BASE}
            command: [sh, -c, "echo config missing; sleep 0.3; exit 2"]
            healthcheck: {{test: [CMD, "false"], interval: 1s, retries: 30}}
        steps: [{{name: never, service: app, run: "true"}}]
        """
    )
    result = run(path)
    assert result.verdict == "error"
    assert result.error is not None
    assert "service 'app' stopped (exit code 2)" in result.error
    assert "config missing" in result.error


def test_an_image_that_cannot_be_found_names_the_service_and_image(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    path = scenario(
        """\
        services: {app: {image: "registry.invalid/acme/product:1.0"}}
        steps: [{name: never, service: app, run: "true"}]
        """
    )
    result = run(path)
    assert result.verdict == "error"
    assert result.error is not None
    assert "service 'app'" in result.error and "registry.invalid/acme/product:1.0" in result.error


def test_up_publishes_on_localhost_hardens_and_down_removes(
    scenario: ScenarioFactory, client: docker.DockerClient
) -> None:
    path = scenario(
        f"""\
        data: [{{name: page, path: index.html, mount: /site/index.html}}]
        services:
          web:
            image: {BASE}
            command: [python3, -m, http.server, "8080", -d, /site]
            ports: ["8080"]
            resources: {{memory: 128m, cpus: 0.5, pids: 100}}
            read_only: true
        """,
        name="explore",
        files={"index.html": "hello from the sandbox\n"},
    )
    started = poc("up", str(path))
    try:
        assert started.returncode == 0, started.stderr
        explore = f"{label.SCENARIO}=explore"
        (web,) = client.containers.list(filters={"label": [explore, f"{label.SERVICE}=web"]})
        run_id = web.labels[label.RUN]
        forwarder = client.containers.get(f"{label.name_prefix(run_id)}_ports-web")
        (binding,) = forwarder.attrs["NetworkSettings"]["Ports"].values()
        assert [b["HostIp"] for b in binding] == ["127.0.0.1"]
        assert f"127.0.0.1:{binding[0]['HostPort']} -> 8080/tcp" in started.stdout
        body = fetch(f"http://127.0.0.1:{binding[0]['HostPort']}/index.html")
        assert body == "hello from the sandbox\n"
        assert_hardened(web.attrs["HostConfig"])
        assert not web.attrs["HostConfig"]["PortBindings"]  # the service publishes nothing
        assert_forwarder_confined(forwarder.attrs)
        for thing in labelled(client, run_id):
            assert (
                thing.attrs.get("Labels", thing.attrs.get("Config", {}).get("Labels"))[
                    label.SCENARIO
                ]
                == "explore"
            )
        assert poc("up", str(path)).returncode == 3  # already up
    finally:
        stopped = poc("down", str(path))
    assert stopped.returncode == 0, stopped.stderr
    assert labelled(client, run_id) == []


def fetch(url: str) -> str:
    for _ in range(50):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} never answered")


def assert_hardened(host: dict[str, object]) -> None:
    """The fields docker-bench-security reads back (CIS Docker Benchmark §5)."""
    assert host["Privileged"] is False
    assert host["CapDrop"] == ["ALL"]
    assert "NET_RAW" not in (host["CapAdd"] or [])
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["Memory"] == 128 * 1024**2 == host["MemorySwap"]
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 100
    assert host["ReadonlyRootfs"] is True
    assert host["Init"] is True
    assert not host["Binds"]
    assert host["PidMode"] == "" and host["IpcMode"] in ("private", "")
    assert host["RestartPolicy"] == {"Name": "", "MaximumRetryCount": 0} or host["RestartPolicy"][
        "Name"
    ] in ("", "no")
    ports = host["PortBindings"] or {}
    assert isinstance(ports, dict)
    assert all(b["HostIp"] == "127.0.0.1" for bindings in ports.values() for b in bindings)


def assert_forwarder_confined(attrs: dict[str, Any]) -> None:
    """The forwarder (poc_runner/backends/docker/forwarder.py): nobody, no capability at all, a read-only root,
    32 MiB and 16 pids, no host path, IP forwarding off, and ports on 127.0.0.1 only."""
    host = attrs["HostConfig"]
    assert attrs["Config"]["User"] == "65534:65534"
    assert host["Privileged"] is False
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["ReadonlyRootfs"] is True
    assert host["Memory"] == 32 * 1024**2 == host["MemorySwap"]
    assert host["PidsLimit"] == 16
    assert not host["Binds"] and not attrs["Mounts"]
    assert host["Sysctls"] == {"net.ipv4.ip_forward": "0"}
    bindings = [b for found in host["PortBindings"].values() for b in found]
    assert bindings and all(b["HostIp"] == "127.0.0.1" for b in bindings)
