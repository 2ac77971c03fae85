"""A host port `poc up` could not publish is said with who holds it: a sandbox left up (and the
`poc down` that frees it), another container, or a program outside any container."""

from __future__ import annotations

from typing import Any

from poc_runner.backends.docker.forwarder import forwards
from poc_runner.backends.docker.portclash import holders
from poc_runner.sandbox import labels as label


class Listing:
    def __init__(self, *containers: dict[str, Any]) -> None:
        self.api = self
        self.listed = list(containers)

    def containers(self) -> list[dict[str, Any]]:
        return self.listed


def bound(port: int, kind: str = "tcp") -> list[dict[str, Any]]:
    return [{"IP": "127.0.0.1", "PrivatePort": 20000, "PublicPort": port, "Type": kind}]


KEPT = {
    label.RUN: "20261206T050609Z-22875f",
    label.SCENARIO: "stock-alerts",
    label.USER: "ana@laptop",
    label.FOLDER: "/home/ana/scenarios/stock-alerts",
}


def test_a_sandbox_left_up_is_named_with_the_command_that_frees_the_port() -> None:
    engine: Any = Listing(
        {"Names": ["/mine"], "Labels": {label.RUN: "this-run"}, "Ports": bound(8080)},
        {"Names": ["/theirs"], "Labels": KEPT, "Ports": bound(8080)},
    )
    assert holders(engine, forwards(["8080:8080"]), "this-run") == (
        "port 8080/tcp is held by the sandbox of stock-alerts that ana@laptop left up (run"
        " 20261206T050609Z-22875f): free it with `poc down /home/ana/scenarios/stock-alerts`"
    )


def test_another_container_or_a_program_outside_any() -> None:
    engine: Any = Listing(
        {"Names": ["/nginx"], "Labels": {}, "Ports": bound(8080)},
        {"Names": ["/dns"], "Labels": {}, "Ports": bound(5353, "udp")},
    )
    said = holders(engine, forwards(["8080:80", "9000:9000", "5353:53/udp"]), "this-run")
    assert said.split("; ") == [
        "port 8080/tcp is held by the container nginx, not poc-runner's: stop it, or publish on"
        " another port",
        "port 9000/tcp is held by a program of this machine outside any container: stop it, or"
        " publish the service on another port",
        "port 5353/udp is held by the container dns, not poc-runner's: stop it, or publish on"
        " another port",
    ]


def test_a_port_the_engine_picks_cannot_clash() -> None:
    assert holders(Listing(), forwards(["8080"]), "this-run") == ""  # type: ignore[arg-type]
