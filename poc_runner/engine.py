"""The Docker engine: one connection, and what it is (for `poc doctor` and the run's fingerprint).

The docker SDK is imported here only, and only when a command needs the engine, so `poc --help`
and `poc validate` stay fast.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poc_runner.contexts import Context, chosen_context
from poc_runner.errors import SandboxError, reason

if TYPE_CHECKING:
    import docker

ENGINE_HELP = (
    "Start Docker (Docker Desktop, `sudo systemctl start docker`, or on Debian as root:"
    " `apt-get install docker.io`), or point DOCKER_HOST at an engine; `poc doctor` shows what"
    " is missing."
)


def connect(timeout: float = 120) -> docker.DockerClient:
    """A client that speaks the engine's own API version; a clear error when none answers.

    Which engine, as the docker CLI chooses: DOCKER_HOST when set (a unix socket, `tcp://` with
    DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, or `ssh://user@host`), else the Docker context
    DOCKER_CONTEXT names (`poc --context NAME` sets it), else the current context of
    ~/.docker/config.json."""
    context = _chosen()
    _ssh_transport_only_for_ssh(context)
    import docker

    try:
        if context is None:  # asks the engine its API version: a ping
            return _client(timeout=timeout, **docker.utils.kwargs_from_env())
        return _from_context(context, timeout)
    except docker.errors.DockerException as exc:
        raise SandboxError(
            f"no Docker engine answers at {address()} ({reason(exc)}). {ENGINE_HELP}"
        ) from None


def _chosen() -> Context | None:
    """The Docker context that names the engine, read (a missing or unreadable one is said
    plainly); None when DOCKER_HOST or the default socket does."""
    name = chosen_context()
    return Context.load(name) if name else None


def _ssh_transport_only_for_ssh(context: Context | None) -> None:
    """Keep the docker SDK's SSH transport out unless the engine is reached over SSH. The SDK
    imports it, and paramiko with it, whenever paramiko is installed (docker[ssh]): about
    0.2 s of every command's start, for nothing on a local socket or tcp://. A None entry in
    sys.modules makes that import fail, which the SDK takes as paramiko being absent. Only
    before the SDK's first import: a process that has it (the tests) keeps it whole."""
    host = context.host if context else os.environ.get("DOCKER_HOST", "")
    if "docker" not in sys.modules and not host.startswith("ssh://"):
        sys.modules.setdefault("docker.transport.sshconn", None)  # type: ignore[arg-type]


def _from_context(context: Context, timeout: float) -> docker.DockerClient:
    from docker.tls import TLSConfig

    tls = None
    if context.tls is not None:
        files = {part: context.tls / f"{part}.pem" for part in ("ca", "cert", "key")}
        tls = TLSConfig(
            client_cert=(str(files["cert"]), str(files["key"])) if files["cert"].exists() else None,
            ca_cert=str(files["ca"]) if files["ca"].exists() else None,
            verify=context.verify and files["ca"].exists(),
        )
    return _client(base_url=context.host, tls=tls, timeout=timeout)


def _client(**options: Any) -> docker.DockerClient:
    client: docker.DockerClient = _client_type()(**options)
    return client


@functools.cache
def _client_type() -> type[docker.DockerClient]:
    """A client of the engine that trusts the engine's own TLS settings only. requests lets
    REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE override the CA a client was given (psf/requests
    3829), so where they are set (many company machines) a TLS engine's certificate, signed by
    the CA in DOCKER_CERT_PATH, would be refused; the docker CLI never reads them either. Made
    on first use: the docker SDK is imported only by commands that need the engine."""
    import docker

    class EngineAPI(docker.APIClient):  # type: ignore[misc]
        def __init__(self, **given: Any) -> None:
            super().__init__(**given)
            adapter = getattr(self, "_custom_adapter", None)
            if type(adapter).__name__ == "SSHHTTPAdapter":  # an ssh:// engine
                from poc_runner.sshlink import patient

                adapter.__class__ = patient(type(adapter))

        @property
        def trust_env(self) -> bool:  # the environment's proxies and CA bundles: not for it
            return False

        @trust_env.setter
        def trust_env(self, _value: bool) -> None:
            pass

    class Client(docker.DockerClient):  # type: ignore[misc]
        def __init__(self, **given: Any) -> None:  # as DockerClient's, with that API client
            self.api = EngineAPI(**given)

    return Client


def address() -> str:
    """Where the engine is, in words: DOCKER_HOST, the context and its host, or the socket."""
    if host := os.environ.get("DOCKER_HOST"):
        return host
    if (context := chosen_context()) is not None:
        try:
            return f"{Context.load(context).host} (context {context})"
        except SandboxError:
            return f"context {context}"
    return "unix:///var/run/docker.sock"


_LOCAL = ("http+docker://localhost", "http+docker://localnpipe")  # a unix socket, a pipe


def is_remote(client: docker.DockerClient) -> bool:
    """Whether the engine runs on another machine (or is reached as if it did: ssh, tcp):
    then the ports it publishes are on that machine's 127.0.0.1, not this one's."""
    return not str(client.api.base_url).startswith(_LOCAL)


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
    name: str = "?"  # the engine's machine, as it names itself

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
            name=str(info.get("Name", "?")),
        )
