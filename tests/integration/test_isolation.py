"""The sandbox's network: services reach each other by name and nothing else — not the host
(a listener on the host's 0.0.0.0 stays unreachable on every host address and the gateway),
so nothing beyond it either. The same probe under `network: egress` reaches what isolation
blocks, so the test can fail. Images are built as isolated as the run: a Dockerfile's RUN
reaches no host address either, unless the build asks for the network. Every address probed is
this machine's own: tests never send traffic anywhere else, not even as a control."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from poc_runner.result import RunResult

from .conftest import BASE, WEB_SERVICE, ScenarioFactory, host_addresses, run_folder

PROBE = """\
import json, os, socket
from concurrent.futures import ThreadPoolExecutor
targets = json.loads(os.environ["TARGETS"])
own = socket.gethostbyname(socket.gethostname())
targets.append([own.rsplit(".", 1)[0] + ".1", int(os.environ["PORT"])])  # the network's gateway
def attempt(target):
    try:
        socket.create_connection(tuple(target), timeout=2).close()
        return "open"
    except OSError as exc:
        return type(exc).__name__
with ThreadPoolExecutor(len(targets)) as pool:
    found = {f"{h}:{p}": r for (h, p), r in zip(targets, pool.map(attempt, targets))}
with open("/etc/resolv.conf") as conf:
    found["nameservers"] = [line.split()[1] for line in conf if line.startswith("nameserver")]
print(json.dumps(found))
"""


def probe_scenario(scenario: ScenarioFactory, network: str, port: int, name: str) -> Path:
    targets = [[address, port] for address in host_addresses()]
    return scenario(
        f"""\
        sandbox: {{network: {network}}}
        data: [{{name: probe, path: probe.py, mount: /probe/probe.py}}]
        services:
          server: {WEB_SERVICE}
          client:
            image: {BASE}
            command: [sleep, infinity]
            depends_on: {{server: {{condition: service_healthy}}}}
        steps:
          - name: by-name
            service: client
            run: python3 -c "import urllib.request as u; print(u.urlopen('http://server:8080/').status)"
          - name: probe
            service: client
            run: [python3, /probe/probe.py]
            env:
              TARGETS: '{json.dumps(targets)}'
              PORT: "{port}"
        """,
        name=name,
        files={"probe.py": PROBE},
    )


def probed(tmp_path: Path, result: RunResult) -> dict[str, Any]:
    assert result.error is None, result.error
    return dict(json.loads((run_folder(tmp_path, result) / "steps" / "probe.out").read_text()))


def test_isolated_services_reach_each_other_and_nothing_else(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path, host_listener: int
) -> None:
    result = run(probe_scenario(scenario, "isolated", host_listener, "isolated"))
    steps = {step.name: step for step in result.steps}
    assert steps["by-name"].exit_code == 0
    assert (run_folder(tmp_path, result) / "steps" / "by-name.out").read_text().strip() == "200"
    found = probed(tmp_path, result)
    assert found.pop("nameservers") == ["127.0.0.11"]  # the engine's own resolver, nothing else
    assert len(found) >= 2  # at least one host address and the gateway
    assert all(outcome != "open" for outcome in found.values()), found


def test_egress_reaches_what_isolation_blocks(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path, host_listener: int
) -> None:
    """The control: the same probe, with a route out, reaches the host's listener, so the
    isolated run's failures come from the isolation, not from the probe."""
    found = probed(tmp_path, run(probe_scenario(scenario, "egress", host_listener, "egress")))
    found.pop("nameservers")
    reached = [target for target, outcome in found.items() if outcome == "open"]
    assert any(target.endswith(f":{host_listener}") for target in reached), found


BUILD_PROBE = """\
import json, os, socket
found = {}
for address in json.loads(os.environ["TARGETS"]):
    try:
        socket.create_connection((address, int(os.environ["PORT"])), timeout=2).close()
        found[address] = "open"
    except OSError as exc:
        found[address] = type(exc).__name__
print(json.dumps(found))
"""


@pytest.mark.parametrize(("build_network", "reached"), [(None, False), ("default", True)])
def test_an_isolated_sandbox_builds_its_images_without_a_network(
    scenario: ScenarioFactory,
    run: Callable[..., RunResult],
    tmp_path: Path,
    host_listener: int,
    build_network: str | None,
    reached: bool,
) -> None:
    """A Dockerfile's RUN tries the host's listener on every host address while the image is
    built: nothing answers, as for the run itself. The control, `build.network: default`
    (what a build that downloads asks for), reaches it, so the probe can tell."""
    network = f", network: {build_network}" if build_network else ""
    targets = host_addresses()  # once: other bridges come and go meanwhile
    path = scenario(
        f"""\
        services:
          app:
            build: {{context: app{network}, args: {{TARGETS: '{json.dumps(targets)}', PORT: "{host_listener}"}}}}
            command: [sleep, infinity]
        steps: [{{name: probe, service: app, run: cat /probe.json}}]
        """,
        name=f"build-{build_network or 'isolated'}",
        files={
            "app/probe.py": BUILD_PROBE,
            "app/Dockerfile": f"FROM {BASE}\nARG TARGETS\nARG PORT\nCOPY probe.py /probe.py\n"
            "RUN python3 /probe.py > /probe.json\n",
        },
    )
    found = probed(tmp_path, run(path))
    assert set(found) == set(targets)
    opened = [address for address, outcome in found.items() if outcome == "open"]
    assert bool(opened) is reached, found


def test_a_build_that_fails_without_a_network_says_how_to_allow_it(
    scenario: ScenarioFactory, run: Callable[..., RunResult], host_listener: int
) -> None:
    address = host_addresses()[0]
    connect = f"import socket; socket.create_connection(('{address}', {host_listener}), 2)"
    path = scenario(
        """\
        services:
          app: {build: app, command: [sleep, infinity]}
        steps: [{name: nothing, service: app, run: "true"}]
        """,
        name="build-offline",
        files={"app/Dockerfile": f'FROM {BASE}\nRUN python3 -c "{connect}"\n'},
    )
    result = run(path)
    assert result.verdict == "error"
    assert result.error is not None
    assert "building the image of service 'app'" in result.error
    assert "without a network" in result.error
    assert "network: default" in result.error
