"""Publishing a service's `ports` on 127.0.0.1 without giving the service a route out.

A service stays on the run's network alone (isolated: the host holds no address on it). A port
the host can reach needs a bridge with a host address as gateway, and whatever sits on it can
reach the host through that address and beyond; so the service never joins one. Its ports are
published by a forwarder (`<prefix>_ports-<service>`): a helper container on both the run's
network and a publishing bridge, whose own ports the engine binds on 127.0.0.1. It relays each
connection (TCP) and each client's datagrams (UDP) to the service's port, and nothing else.

It cannot be steered. It is given the service container's address on the run's network as the
engine reports it, never a name to look up (a name that reads as an address, `192.0.2.2` or
`3221226018`, is an address to `gethostbyname`, and validation refuses such names anyway); it
connects to that one address only. It listens only on its own address on the publishing bridge
and answers only clients from that bridge (the engine's port bindings, from the host), so a
service of the run that connects to it over the run's network finds nothing listening.

Its program (PROGRAM) is a short asyncio script given to `python3 -c`: nothing is mounted or
copied in. It listens on ports of its own from FIRST_PORT up (unprivileged, so it needs no
capability at all), runs as nobody with a read-only root, 32 MiB and 16 pids, and with IP
forwarding off in its network namespace, so no packet is routed through it either.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from poc_runner.backend import Endpoint
from poc_runner.backends.docker.helpers import START_PIDS, confined, create_helper
from poc_runner.backends.docker.holder import NOBODY
from poc_runner.errors import SandboxError
from poc_runner.model.services import PORT

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network

LOOPBACK = "127.0.0.1"
# The forwarder's own ports, one per declared port: unprivileged (no NET_BIND_SERVICE), and
# below the ephemeral range from which its own connections to the service leave.
FIRST_PORT = 10000
MEMORY, PIDS = "32m", START_PIDS  # it idles at about 11 MiB, relaying included; one thread
READY_WITHIN = 10.0  # seconds for python3 to start and bind its ports
READY = b"listening"
# Kept (and small) so start-up sees READY, or the traceback that says why it never came.
LOGS = {"Type": "json-file", "Config": {"max-size": "64k", "max-file": "1"}}
# The publishing bridge masquerades nothing, so not even the forwarder has a working route to
# the internet; its bindings default to loopback (each one names 127.0.0.1 anyway).
MASQUERADE = "com.docker.network.bridge.enable_ip_masquerade"
HOST_BINDING = "com.docker.network.bridge.host_binding_ipv4"

PROGRAM = """\
import asyncio, ipaddress, socket, sys

IDLE = 120.0  # seconds a UDP client may stay silent before its socket to the service closes


def own_address(bridge):
    \"""This container's address on the publishing bridge: the source of its route to the
    bridge's gateway (a UDP connect sends nothing).\"""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((str(bridge.ip), 9))
        return probe.getsockname()[0]


def welcome(peer):
    return ipaddress.ip_address(peer[0]) in BRIDGE.network


async def pipe(reader, writer, ends):
    try:
        while data := await reader.read(16384):
            writer.write(data)
            await writer.drain()
        writer.write_eof()  # a half-close passes on; the other direction carries on
    except OSError:  # a reset ends both directions
        for end in ends:
            end.transport.abort()


def tcp(port):
    async def relay(client_reader, client_writer):
        if not welcome(client_writer.get_extra_info("peername")):
            client_writer.transport.abort()
            return
        try:
            reader, writer = await asyncio.open_connection(TARGET, port, limit=16384)
        except OSError:
            client_writer.transport.abort()
            return
        ends = (client_writer, writer)
        await asyncio.gather(pipe(client_reader, writer, ends), pipe(reader, client_writer, ends))
        for end in ends:
            end.close()

    return relay


class Udp(asyncio.DatagramProtocol):
    \"""Each client gets its own socket to the service, so replies find their way back.\"""

    def __init__(self, port):
        self.port, self.peers, self.loop = port, {}, asyncio.get_running_loop()

    def connection_made(self, transport):
        self.transport = transport
        self.expire()

    def datagram_received(self, data, client):
        if not welcome(client):
            return
        peer = self.peers.get(client) or self.open(client)
        if peer:
            peer[1] = self.loop.time()
            try:
                peer[0].send(data)
            except OSError:
                pass

    def open(self, client):
        if len(self.peers) >= 256:
            return None
        upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        upstream.setblocking(False)
        upstream.connect((TARGET, self.port))
        self.loop.add_reader(upstream, self.reply, upstream, client)
        peer = self.peers[client] = [upstream, 0.0]
        return peer

    def reply(self, upstream, client):
        try:
            self.transport.sendto(upstream.recv(65535), client)
        except OSError:  # the service refused (ICMP): nothing to pass back
            pass

    def expire(self):
        for client, (upstream, last) in list(self.peers.items()):
            if self.loop.time() - last > IDLE:
                self.loop.remove_reader(upstream)
                upstream.close()
                del self.peers[client]
        self.loop.call_later(IDLE, self.expire)


async def main():
    here = own_address(BRIDGE)
    for spec in sys.argv[3:]:
        protocol, listen, port = spec.split(":")
        if protocol == "tcp":
            await asyncio.start_server(tcp(int(port)), here, int(listen), limit=16384)
        else:
            endpoint = asyncio.get_running_loop().create_datagram_endpoint
            await endpoint(lambda: Udp(int(port)), (here, int(listen)))
    print("listening", flush=True)
    await asyncio.Event().wait()


TARGET = str(ipaddress.IPv4Address(sys.argv[1]))  # an address, as the engine reported it
BRIDGE = ipaddress.IPv4Interface(sys.argv[2])  # the publishing bridge: gateway/prefix
asyncio.run(main())
"""


@dataclass(frozen=True)
class Forward:
    """One declared port: the service's port, the forwarder's own port that relays to it, and
    the host port it is published on (None: a free one, the engine picks)."""

    protocol: str  # tcp or udp
    port: int
    listen: int
    host_port: int | None

    @property
    def service_port(self) -> str:
        return f"{self.port}/{self.protocol}"

    @property
    def forwarder_port(self) -> str:
        return f"{self.listen}/{self.protocol}"


def role(service: str) -> str:
    """The forwarder's io.poc-runner.service label: never a service's own name."""
    return f"(ports-{service})"


def forwards(ports: Sequence[str]) -> list[Forward]:
    """A service's `ports` (short syntax, validated with PORT), each on a forwarder port of its
    own: a container port declared twice (on two host ports) is relayed twice."""
    found = []
    for index, port in enumerate(ports):
        match = PORT.fullmatch(port)
        assert match is not None  # validated with the same pattern
        host = int(match["host"]) if match["host"] else None
        protocol = port.partition("/")[2] or "tcp"
        found.append(Forward(protocol, int(match["container"]), FIRST_PORT + index, host))
    return found


def port_bindings(ports: Sequence[Forward]) -> dict[str, tuple[str, int | None]]:
    """The forwarder's ports as the engine's port bindings, on 127.0.0.1 only."""
    return {forward.forwarder_port: (LOOPBACK, forward.host_port) for forward in ports}


def create_publishing_network(
    client: docker.DockerClient, name: str, labels: dict[str, str]
) -> Network:
    """The bridge the forwarders' ports are published from; no service ever joins it."""
    options = {MASQUERADE: "false", HOST_BINDING: LOOPBACK}
    return client.networks.create(name, driver="bridge", options=options, labels=labels)


def bridge_of(network: Network) -> str:
    """The publishing bridge as the engine allotted it, `gateway/prefix` (172.18.0.1/16): the
    forwarder listens on its own address there and answers no one from elsewhere."""
    network.reload()
    for config in network.attrs.get("IPAM", {}).get("Config") or []:
        gateway, subnet = config.get("Gateway"), config.get("Subnet") or ""
        if gateway and "." in subnet:
            return f"{gateway}/{subnet.partition('/')[2]}"
    raise SandboxError(f"the engine gave the network {network.name} no IPv4 gateway")


def create_forwarder(
    client: docker.DockerClient,
    target: str,
    ports: Sequence[Forward],
    *,
    publishing: str,
    bridge: str,
    name: str,
    labels: dict[str, str],
) -> Container:
    """Create (not start) a service's forwarder on the publishing bridge (`bridge`: as
    `bridge_of` says it), its ports bound, relaying to `target`: the service's address on the
    run's network as the engine reports it (network.address_on)."""
    relays = [f"{forward.protocol}:{forward.listen}:{forward.port}" for forward in ports]
    return create_helper(
        client,
        "the forwarder that publishes ports",
        ["python3", "-I", "-c", PROGRAM, target, bridge, *relays],
        name=name,
        labels=labels,
        user=NOBODY,
        network=publishing,
        ports=port_bindings(ports),
        sysctls={"net.ipv4.ip_forward": "0"},
        **{**confined(memory=MEMORY, pids=PIDS), "log_config": LOGS},
    )


def start_forwarder(container: Container, network: Network, service: str) -> None:
    """Join the run's network, start, and wait until it listens, so the endpoints shown answer
    at once; an error saying why when it cannot."""
    import docker

    try:
        network.connect(container)
        container.start()
    except docker.errors.APIError as exc:
        raise SandboxError(
            f"the ports of service {service!r} could not be published: {exc.explanation or exc}"
        ) from None
    deadline = time.monotonic() + READY_WITHIN
    while READY not in container.logs():
        container.reload()
        if container.status != "running" or time.monotonic() > deadline:
            output = container.logs().decode(errors="replace").strip()[-1000:]
            raise SandboxError(
                f"the forwarder of service {service!r} did not start listening"
                + (f": {output}" if output else "")
            )
        time.sleep(0.02)


def endpoints(container: Container, ports: Sequence[Forward], *, remote: bool) -> list[Endpoint]:
    """Where the host reaches each port, against the service's own port: shown as
    `127.0.0.1:49153 -> 8080/tcp` (`remote`: on the engine's machine)."""
    container.reload()
    bound = container.attrs.get("NetworkSettings", {}).get("Ports") or {}
    return [
        Endpoint(
            binding["HostIp"], int(binding["HostPort"]), forward.port, forward.protocol, remote
        )
        for forward in ports
        for binding in bound.get(forward.forwarder_port) or []
    ]
