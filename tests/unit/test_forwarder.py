"""How `poc up` publishes ports (poc_runner/backends/docker/forwarder.py): each declared port gets a forwarder port
of its own, bound on 127.0.0.1 only, shown against the service's port; and the forwarder's
program relays TCP (half-closes included) and UDP (each client its own replies). The program
runs here as a local process relaying to a server on loopback: no Docker."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import pytest
from pydantic import ValidationError

from poc_runner.backends.docker.forwarder import (
    FIRST_PORT,
    PROGRAM,
    READY,
    Forward,
    endpoints,
    forwards,
    port_bindings,
)
from poc_runner.model import Service


def declared(*ports: str) -> list[str]:
    """Ports as the model accepts them."""
    return Service.model_validate({"image": "app:1", "ports": list(ports)}).ports


class TestForwards:
    @pytest.mark.parametrize(
        ("port", "forward"),
        [
            ("8080", Forward("tcp", 8080, FIRST_PORT, None)),
            ("9000:8080", Forward("tcp", 8080, FIRST_PORT, 9000)),
            ("127.0.0.1:9000:8080", Forward("tcp", 8080, FIRST_PORT, 9000)),
            ("127.0.0.1::8080", Forward("tcp", 8080, FIRST_PORT, None)),
            (":8080", Forward("tcp", 8080, FIRST_PORT, None)),
            ("8080/tcp", Forward("tcp", 8080, FIRST_PORT, None)),
            ("53/udp", Forward("udp", 53, FIRST_PORT, None)),
            ("5353:53/udp", Forward("udp", 53, FIRST_PORT, 5353)),
            ("127.0.0.1:9443:443/tcp", Forward("tcp", 443, FIRST_PORT, 9443)),
        ],
    )
    def test_every_short_form_reaches_the_services_port(self, port: str, forward: Forward) -> None:
        assert forwards(declared(port)) == [forward]

    def test_each_declared_port_gets_a_forwarder_port_of_its_own(self) -> None:
        found = forwards(declared("80", "9000:80", "9001:80", "53/udp"))
        assert [f.listen for f in found] == [FIRST_PORT + i for i in range(4)]
        assert [f.service_port for f in found] == ["80/tcp", "80/tcp", "80/tcp", "53/udp"]
        assert [f.host_port for f in found] == [None, 9000, 9001, None]

    def test_the_forwarder_listens_on_unprivileged_ports_below_the_ephemeral_range(
        self,
    ) -> None:
        """So it needs no NET_BIND_SERVICE, and its own outgoing ports never collide."""
        found = forwards(declared(*(str(port) for port in range(1, 101))))
        assert all(1024 <= f.listen < 32768 for f in found)

    def test_bindings_are_on_loopback_only(self) -> None:
        bindings = port_bindings(forwards(declared("8080", "9000:9001", "5353:53/udp")))
        assert bindings == {
            f"{FIRST_PORT}/tcp": ("127.0.0.1", None),
            f"{FIRST_PORT + 1}/tcp": ("127.0.0.1", 9000),
            f"{FIRST_PORT + 2}/udp": ("127.0.0.1", 5353),
        }

    def test_no_ports_no_forwards(self) -> None:
        assert forwards(declared()) == []
        assert port_bindings([]) == {}

    def test_another_address_never_gets_this_far(self) -> None:
        with pytest.raises(ValidationError, match=r"127\.0\.0\.1 only"):
            declared("0.0.0.0:8080:8080")

    def test_every_port_the_model_accepts_can_be_forwarded(self) -> None:
        try:
            accepted = declared("127.0.0.1:8080")
        except ValidationError:
            return  # refusing the form is a fix too
        assert forwards(accepted) == [Forward("tcp", 8080, FIRST_PORT, None)]


class _Bound:
    """A container as `endpoints` reads it: the engine's bindings of the forwarder's ports."""

    def __init__(self, ports: dict[str, Any]) -> None:
        self.attrs = {"NetworkSettings": {"Ports": ports}}

    def reload(self) -> None:
        pass


def test_endpoints_show_the_forwarders_bindings_against_the_services_ports() -> None:
    bound = _Bound(
        {
            f"{FIRST_PORT}/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}],
            f"{FIRST_PORT + 1}/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
        }
    )
    shown = endpoints(bound, forwards(declared("8080", "5353:53/udp")), remote=False)
    assert [str(where) for where in shown] == [
        "127.0.0.1:49153 -> 8080/tcp",
        "127.0.0.1:5353 -> 53/udp",
    ]


def test_no_binding_yet_shows_nothing() -> None:
    assert endpoints(_Bound({}), forwards(declared("8080")), remote=False) == []


def free_port(kind: socket.SocketKind) -> int:
    with closing(socket.socket(socket.AF_INET, kind)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def relaying(*relays: str, bridge: str = "127.0.0.1/8") -> Iterator[None]:
    """The forwarder's program, run here with `python3 -c` as in its container, relaying to
    services on 127.0.0.1 and answering clients of `bridge` (loopback stands for the
    publishing bridge); ready once it says so."""
    process = subprocess.Popen(
        [sys.executable, "-I", "-c", PROGRAM, "127.0.0.1", bridge, *relays],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == READY, process.stderr
        yield
    finally:
        process.kill()
        process.wait()


def serve_once(server: socket.socket, answer: bytes) -> None:
    """Read a request to its end (the client's half-close), answer, close."""
    connection, _ = server.accept()
    with connection:
        request = b""
        while chunk := connection.recv(65536):
            request += chunk
        connection.sendall(answer + request.upper())


def test_tcp_is_relayed_both_ways_and_a_half_close_passes_on() -> None:
    with closing(socket.create_server(("127.0.0.1", 0))) as service:
        threading.Thread(target=serve_once, args=(service, b"got: "), daemon=True).start()
        listen = free_port(socket.SOCK_STREAM)
        with relaying(f"tcp:{listen}:{service.getsockname()[1]}"):
            client = socket.create_connection(("127.0.0.1", listen), timeout=5)
            with client:
                client.sendall(b"x" * 100_000)
                client.shutdown(socket.SHUT_WR)  # the service answers only after this
                answer = b""
                while chunk := client.recv(65536):
                    answer += chunk
    assert answer == b"got: " + b"X" * 100_000


def test_udp_replies_reach_the_client_that_asked() -> None:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as service:
        service.bind(("127.0.0.1", 0))

        def echo() -> None:
            for _ in range(2):
                data, client = service.recvfrom(2048)
                service.sendto(data.upper(), client)

        threading.Thread(target=echo, daemon=True).start()
        listen = free_port(socket.SOCK_DGRAM)
        with relaying(f"udp:{listen}:{service.getsockname()[1]}"):
            clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
            for index, client in enumerate(clients):
                client.settimeout(5)
                client.sendto(b"from %d" % index, ("127.0.0.1", listen))
            replies = [client.recv(2048) for client in clients]
            for client in clients:
                client.close()
    assert replies == [b"FROM 0", b"FROM 1"]


def test_a_client_from_outside_the_publishing_bridge_gets_nothing() -> None:
    """Only the engine's port bindings (from the bridge's own addresses) are relayed: here the
    bridge is 127.0.0.1/32, and a client from 127.0.0.2 is cut off without a byte."""
    with closing(socket.create_server(("127.0.0.1", 0))) as service:
        threading.Thread(target=serve_once, args=(service, b"got: "), daemon=True).start()
        listen = free_port(socket.SOCK_STREAM)
        with relaying(f"tcp:{listen}:{service.getsockname()[1]}", bridge="127.0.0.1/32"):
            stranger = socket.socket()
            stranger.bind(("127.0.0.2", 0))
            stranger.settimeout(5)
            with stranger:
                stranger.connect(("127.0.0.1", listen))
                stranger.sendall(b"hello")
                try:
                    answer = stranger.recv(100)
                except ConnectionResetError:
                    answer = b""
    assert answer == b""


@pytest.mark.parametrize("target", ["192.0.2.2.example", "app", "localhost"])
def test_the_program_takes_an_address_never_a_name(target: str) -> None:
    done = subprocess.run(
        [sys.executable, "-I", "-c", PROGRAM, target, "127.0.0.1/8", "tcp:10000:80"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert b"AddressValueError" in done.stderr
