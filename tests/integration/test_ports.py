"""`poc up` publishes ports without giving the product a route out: the service stays on the
run's isolated network alone, and a forwarder publishes its ports on 127.0.0.1. From inside the
service, a listener on the host's 0.0.0.0 stays unreachable on every host address and on the
gateway of each of the run's networks (the forwarder's publishing bridge included), while from
the host the published ports reach the service (TCP and UDP). Every address probed is this
machine's own."""

from __future__ import annotations

import json
import re
import socket
import time

import docker
import pytest
from docker.models.containers import Container

from poc_runner.run import load
from poc_runner.sandbox import labels as label
from poc_runner.sandbox.headstart import HeadStart, draft_of
from poc_runner.sandbox.lifecycle import Sandbox

from .conftest import BASE, WEB_SERVICE, ScenarioFactory, host_addresses, labelled, poc
from .test_isolation import PROBE
from .test_lifecycle import fetch

ECHO = """\
import socket
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("", 5353))
while True:
    data, client = server.recvfrom(2048)
    server.sendto(data.upper(), client)
"""
PUBLISHED = f"""\
data:
  - {{name: page, path: index.html, mount: /site/index.html}}
  - {{name: echo, path: echo.py, mount: /echo/echo.py}}
services:
  web:
    image: {BASE}
    command: [sh, -c, "python3 /echo/echo.py & exec python3 -m http.server 8080 -d /site"]
    ports: ["8080", "127.0.0.1::5353/udp"]
"""


def test_up_publishes_through_a_forwarder_and_the_service_reaches_no_host_address(
    scenario: ScenarioFactory, client: docker.DockerClient, host_listener: int
) -> None:
    path = scenario(
        PUBLISHED,
        name="ports-route",
        files={"index.html": "hello through the forwarder\n", "echo.py": ECHO},
    )
    started = poc("up", str(path))
    try:
        assert started.returncode == 0, started.stderr
        run_id = run_id_in(started.stdout)
        web = service_container(client, run_id, "web")
        found = probe_from(web, [*host_addresses(), *gateways(client, run_id)], host_listener)
        assert found.pop("nameservers") == ["127.0.0.11"]
        assert len(found) >= 3  # host addresses, and the gateways of both networks
        assert all(outcome != "open" for outcome in found.values()), found

        tcp = endpoint(started.stdout, "8080/tcp")
        assert fetch(f"http://{tcp}/index.html") == "hello through the forwarder\n"
        assert echoed(endpoint(started.stdout, "5353/udp"), b"ping") == b"PING"
    finally:
        stopped = poc("down", str(path))
    assert stopped.returncode == 0, stopped.stderr
    assert labelled(client, run_id) == []


def test_a_service_in_its_holders_network_namespace_is_published_too(
    scenario: ScenarioFactory, client: docker.DockerClient
) -> None:
    """A service that waits on another's health joins its holder's network namespace (head
    start); the forwarder reaches it by name all the same."""
    path = scenario(
        f"""\
        services:
          db: {WEB_SERVICE}
          web:
            image: {BASE}
            command: [python3, -m, http.server, "8080"]
            depends_on: {{db: {{condition: service_healthy}}}}
            ports: ["8080"]
        """,
        name="ports-holder",
    )
    draft = draft_of(path)
    assert draft is not None
    head = HeadStart(client, draft, label.new_run_id(), kept=True)
    sandbox = Sandbox(
        client, load(path, {}), path.parent, head.run_id, kept=True, publish=True, head=head
    )
    try:
        sandbox.up()
        web = sandbox.containers["web"]
        assert web.attrs["HostConfig"]["NetworkMode"].startswith("container:")
        (published,) = sandbox.endpoints("web")
        assert published.endswith(" -> 8080/tcp")
        assert "Directory listing" in fetch(f"http://{published.split()[0]}/")
    finally:
        problems = sandbox.down()
    assert problems == []
    assert labelled(client, head.run_id) == []


def run_id_in(printed: str) -> str:
    found = re.search(r"is up \(run (\S+)\)", printed)
    assert found is not None, printed
    return found[1]


def service_container(client: docker.DockerClient, run_id: str, service: str) -> Container:
    selector = [f"{label.RUN}={run_id}", f"{label.SERVICE}={service}"]
    (container,) = client.containers.list(filters={"label": selector})
    return container


def gateways(client: docker.DockerClient, run_id: str) -> list[str]:
    """The gateway address of each of the run's networks, as the engine allotted it."""
    networks = client.networks.list(filters={"label": f"{label.RUN}={run_id}"})
    found = [c.get("Gateway") for n in networks for c in n.attrs["IPAM"]["Config"] or []]
    assert len(found) >= 2, "the run's network and the forwarder's publishing bridge"
    return [address for address in found if address]


def probe_from(container: Container, addresses: list[str], port: int) -> dict[str, object]:
    """Try the host's listener on each address from inside the container (docker exec)."""
    targets = json.dumps([[address, port] for address in addresses])
    code, (out, err) = container.exec_run(
        ["python3", "-c", PROBE], environment={"TARGETS": targets, "PORT": str(port)}, demux=True
    )
    assert code == 0, err
    return dict(json.loads(out))


def endpoint(printed: str, inside: str) -> str:
    """The host address `poc up` printed for a service's port (`127.0.0.1:49153 -> 8080/tcp`)."""
    found = re.search(rf"(127\.0\.0\.1:\d+) -> {inside}\b", printed)
    assert found is not None, printed
    return found[1]


def echoed(address: str, message: bytes) -> bytes:
    host, port = address.split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(0.5)
        for _ in range(20):
            udp.sendto(message, (host, int(port)))
            try:
                return udp.recv(2048)
            except TimeoutError:
                time.sleep(0.1)
    pytest.fail(f"nothing came back from {address}")
