"""The Docker engine: one connection, and what it is (for `poc doctor` and the run's fingerprint).

The docker SDK is imported here only, and only when a command needs the engine, so `poc --help`
and `poc validate` stay fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poc_runner.errors import SandboxError, reason

if TYPE_CHECKING:
    import docker

ENGINE_HELP = (
    "Start Docker (or run `make engine` as root on Debian, which installs and starts it),"
    " or point DOCKER_HOST at an engine; `poc doctor` shows what is missing."
)


def connect(timeout: float = 120) -> docker.DockerClient:
    """A client that speaks the engine's own API version; a clear error when none answers."""
    import docker

    try:
        client = docker.from_env(timeout=timeout)  # asks the engine its API version: a ping
    except docker.errors.DockerException as exc:
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise SandboxError(
            f"no Docker engine answers at {where} ({reason(exc)}). {ENGINE_HELP}"
        ) from None
    return client


def answers(client: docker.DockerClient) -> bool:
    """Whether the engine answers a ping right now."""
    try:
        return bool(client.ping())
    except Exception:  # whatever the reason, it does not answer
        return False


@dataclass(frozen=True)
class EngineInfo:
    version: str
    api_version: str
    os: str
    kernel: str
    cgroup_version: str
    runtimes: tuple[str, ...]

    @classmethod
    def read(cls, client: docker.DockerClient) -> EngineInfo:
        version: dict[str, Any] = client.version()
        info: dict[str, Any] = client.info()
        return cls(
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            os=str(info.get("OperatingSystem", "?")),
            kernel=str(info.get("KernelVersion", "?")),
            cgroup_version=str(info.get("CgroupVersion", "1")),
            runtimes=tuple(sorted(info.get("Runtimes") or {})),
        )
