"""What the docker SDK's errors mean, in the words of the person at the keyboard.

Registered with errors.world_failure when this backend is imported: until then no docker error
can have happened. A dropped connection is the engine's (a run talks to no other socket),
whichever layer noticed: requests, urllib3, the ssh link's paramiko, or the socket itself.
"""

from __future__ import annotations

import sys

from poc_runner.errors import TRANSLATORS, EngineLost, PocError, SandboxError, reason


def engine_lost(exc: BaseException) -> bool:
    """Whether an error means the engine went away (it died, or its connection dropped)."""
    requests = sys.modules.get("requests")
    urllib3 = sys.modules.get("urllib3")
    lost: tuple[type[BaseException], ...] = (ConnectionError,)
    if requests is not None:
        lost += (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
    if urllib3 is not None:
        lost += (urllib3.exceptions.ProtocolError,)
    if (paramiko := sys.modules.get("paramiko")) is not None:  # an ssh:// engine's link
        lost += (paramiko.SSHException,)
    return isinstance(exc, lost)


def translate(exc: BaseException) -> PocError | None:
    if engine_lost(exc):
        return EngineLost(f"the Docker engine stopped answering ({reason(exc)})", "Docker")
    docker = sys.modules.get("docker")
    if docker is not None and isinstance(exc, docker.errors.DockerException):
        return SandboxError(f"the Docker engine reported an error: {exc}")
    return None


if translate not in TRANSLATORS:
    TRANSLATORS.append(translate)
