"""`poc up` publishes ports without giving the product a route out: the service stays on the
run's isolated network alone, and a forwarder publishes its ports on 127.0.0.1. From inside the
service, a listener on the host's 0.0.0.0 stays unreachable on every host address and on the
gateway of each of the run's networks (the forwarder's publishing bridge included), while from
the host the published ports reach the service (TCP and UDP). The forwarder cannot be used as
a relay: another service finds nothing listening on it, it relays to the address the engine
reports for its service, and a service named like this host's address is refused before
anything starts. Every address probed is this machine's own."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import time
from collections.abc import Iterator

import docker
import pytest
from docker.models.containers import Container

from poc_runner.backend import SandboxOptions
from poc_runner.backends.docker.forwarder import FIRST_PORT
from poc_runner.backends.docker.headstart import HeadStart, draft_of
from poc_runner.backends.docker.sandbox import DockerSandbox
from poc_runner.pipeline import plan_of
from poc_runner.sandbox import labels as label

from .conftest import (
    BASE,
    WEB_SERVICE,
    ScenarioFactory,
    host_addresses,
    labelled,
    listening,
    poc,
)
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
  peer: {{image: {BASE}, command: [sleep, infinity]}}
"""
# Connects to each target (host:port) and sends an HTTP request; what came back, or the error.
RELAY = """\
import json, os, socket
outcome = {}
for target in json.loads(os.environ["TARGETS"]):
    host, port = target.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=3) as connection:
            connection.settimeout(3)
            connection.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
            outcome[target] = "open: " + connection.recv(64).decode(errors="replace")
    except OSError as exc:
        outcome[target] = type(exc).__name__
print(json.dumps(outcome))
"""
BANNER = b"this host's own listener\n"


@pytest.fixture
def banner_listener() -> Iterator[int]:
    """A TCP listener on every address of this host that greets whoever connects."""
    with listening(BANNER) as port:
        yield port


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

        # the forwarder as a relay, from another service of the run: nothing listens for it
        forwarder = client.containers.get(f"{label.name_prefix(run_id)}_ports-web")
        tried = relay_from(
            service_container(client, run_id, "peer"), [f"{forwarder.name}:{FIRST_PORT}"]
        )
        assert tried == {f"{forwarder.name}:{FIRST_PORT}": "ConnectionRefusedError"}
        # and it relays to web's address as the engine reports it, never to a name
        network = f"{label.name_prefix(run_id)}-net"
        address = web.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
        assert forwarder.attrs["Config"]["Cmd"][4] == address
    finally:
        stopped = poc("down", str(path))
    assert stopped.returncode == 0, stopped.stderr
    assert labelled(client, run_id) == []


@pytest.mark.parametrize("form", ["dotted", "one number"])
def test_a_service_named_like_this_hosts_address_is_refused_and_relays_nothing(
    scenario: ScenarioFactory, client: docker.DockerClient, banner_listener: int, form: str
) -> None:
    """Named `192.0.2.2` (or `3221225986`, the same address as one number), a service's
    forwarder once looked its name up, got the host's address back, and relayed any service
    of the run to a listener on the host. Such a name is refused now, saying why."""
    address = host_addresses()[0]
    name = address if form == "dotted" else str(int(ipaddress.IPv4Address(address)))
    path = scenario(
        f"""\
        services:
          "{name}": {{image: {BASE}, command: [sleep, infinity], ports: ["{banner_listener}"]}}
          peer: {{image: {BASE}, command: [sleep, infinity]}}
        """,
        name="ports-address",
    )
    started = poc("up", str(path))
    try:
        if started.returncode == 0:  # it came up: try the relay
            run_id = run_id_in(started.stdout)
            target = f"{label.name_prefix(run_id)}_ports-{name}:{FIRST_PORT}"
            tried = relay_from(service_container(client, run_id, "peer"), [target])
            assert BANNER.decode() not in tried[target], tried
        assert started.returncode == 2, started.stdout + started.stderr
        assert f"{name!r} reads as an IP address" in started.stderr
    finally:
        poc("down", str(path))
    assert labelled_of_scenario(client, "ports-address") == []


def labelled_of_scenario(client: docker.DockerClient, name: str) -> list[object]:
    selector = f"{label.SCENARIO}={name}"
    return [
        *client.containers.list(all=True, filters={"label": selector}),
        *client.networks.list(filters={"label": selector}),
    ]


def relay_from(container: Container, targets: list[str]) -> dict[str, str]:
    """Try each `host:port` from inside the container (docker exec); what each gave."""
    code, (out, err) = container.exec_run(
        ["python3", "-c", RELAY], environment={"TARGETS": json.dumps(targets)}, demux=True
    )
    assert code == 0, err
    return dict(json.loads(out))


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
    options = SandboxOptions(keep=True, publish=True, timed=False, watch=False)
    sandbox = DockerSandbox(client, plan_of(path, {}), head.run_id, options=options, head=head)
    try:
        sandbox.up()
        web = sandbox.containers["web"]
        assert web.attrs["HostConfig"]["NetworkMode"].startswith("container:")
        (endpoint,) = sandbox.endpoints()["web"]
        published = str(endpoint)
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
