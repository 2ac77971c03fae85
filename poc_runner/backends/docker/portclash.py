"""Who holds a host port that `poc up` (or `--keep`) could not publish.

The engine only says "Bind for 127.0.0.1:8080 failed: port is already allocated". Usually the
holder is another sandbox left up (the same scenario started from another folder, or another
scenario on the same port), so the message names it, whose it is and the command that frees
it; else the container that holds it, or a process of this machine outside any container.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from poc_runner.sandbox import labels as label

if TYPE_CHECKING:
    import docker

    from poc_runner.backends.docker.forwarder import Forward


def holders(client: docker.DockerClient, ports: Sequence[Forward], run_id: str) -> str:
    """Who holds each fixed host port of `ports` (a free one, picked by the engine, cannot
    clash), in words; empty when no port is fixed."""
    listed: list[dict[str, Any]] = client.api.containers()  # one request, running ones
    said = [
        _holder(listed, forward.host_port, forward.protocol, run_id)
        for forward in ports
        if forward.host_port is not None
    ]
    return "; ".join(said)


def _holder(listed: list[dict[str, Any]], port: int, protocol: str, run_id: str) -> str:
    for container in listed:
        marks = container.get("Labels") or {}
        if marks.get(label.RUN) == run_id:
            continue  # this sandbox's own forwarder, which failed to bind
        if any(_binds(bound, port, protocol) for bound in container.get("Ports") or []):
            return f"port {port}/{protocol} is held by {_who(container, marks)}"
    return (
        f"port {port}/{protocol} is held by a program of this machine outside any container:"
        " stop it, or publish the service on another port"
    )


def _binds(bound: dict[str, Any], port: int, protocol: str) -> bool:
    return bound.get("PublicPort") == port and bound.get("Type", "tcp") == protocol


def _who(container: dict[str, Any], marks: dict[str, str]) -> str:
    scenario = marks.get(label.SCENARIO)
    if scenario is None:
        name = str((container.get("Names") or ["?"])[0]).lstrip("/")
        return f"the container {name}, not poc-runner's: stop it, or publish on another port"
    folder = marks.get(label.FOLDER)
    user = marks.get(label.USER, "someone")
    where = f"`poc down {folder}`" if folder else f"`poc down` on {scenario}"
    return (
        f"the sandbox of {scenario} that {user} left up (run {marks.get(label.RUN)}):"
        f" free it with {where}"
    )
