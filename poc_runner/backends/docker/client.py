"""The Docker engine: one connection, and what it is (for `poc doctor` and the run's fingerprint).

The docker SDK is imported only when a command needs the engine, so `poc --help` and
`poc validate` stay fast.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import TYPE_CHECKING, Any

from poc_runner import settings
from poc_runner.backend import EngineInfo
from poc_runner.backends.docker.contexts import Context, chosen_context
from poc_runner.errors import SandboxError, reason

if TYPE_CHECKING:
    import docker

ENGINE_HELP = (
    "Start Docker (Docker Desktop, `sudo systemctl start docker`, or on Debian as root:"
    " `apt-get install docker.io`), or point DOCKER_HOST at an engine; `poc doctor` shows what"
    " is missing."
)


INSECURE = settings.ENGINE_INSECURE  # =1: an engine reached over TLS without checking it


def connect(timeout: float = 120) -> docker.DockerClient:
    """A client that speaks the engine's own API version; a clear error when none answers.

    Which engine, as the docker CLI chooses: DOCKER_HOST when set (a unix socket, `tcp://` with
    DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, or `ssh://user@host`, see sshlink.py), else the
    Docker context DOCKER_CONTEXT names (`poc --context NAME` sets it), else the current
    context of ~/.docker/config.json. TLS is used only with the engine's certificate checked,
    unless POC_ENGINE_INSECURE=1 says otherwise (then every command warns)."""
    context = _chosen()
    _ssh_transport_only_for_ssh(context)
    import docker

    try:
        if context is None:  # asks the engine its API version: a ping
            options = docker.utils.kwargs_from_env()
            _checked(options.get("tls"), _UNCHECKED_ENVIRONMENT)
            return _client(timeout=timeout, **options)
        return _from_context(context, timeout)
    except docker.errors.DockerException as exc:
        raise SandboxError(
            f"no Docker engine answers at {address()} ({reason(exc)}). {ENGINE_HELP}"
        ) from None


_UNCHECKED_ENVIRONMENT = (
    "DOCKER_CERT_PATH is set and DOCKER_TLS_VERIFY is not, which the docker SDK takes as TLS"
    " without checking the engine's certificate (the docker CLI would not use TLS at all)."
    " Set DOCKER_TLS_VERIFY=1 to check it against DOCKER_CERT_PATH/ca.pem"
)


def _checked(tls: Any, why: str) -> None:
    """TLS only with the engine's certificate checked: else an error saying how to check it,
    or, with POC_ENGINE_INSECURE=1, a warning (once per command)."""
    if tls is None or tls is False or getattr(tls, "verify", True):
        return
    if settings.engine_insecure():
        _warn_unchecked()
        return
    raise SandboxError(
        f"the Docker engine at {address()} would be reached over TLS without checking its"
        f" certificate: anyone on the way could read and change what poc-runner sends it,"
        f" secrets included. {why}, or set {INSECURE}=1 to accept an engine that is not"
        " checked."
    )


@functools.cache
def _warn_unchecked() -> None:
    sys.stderr.write(
        f"warning: the Docker engine at {address()} is reached over TLS without checking its"
        f" certificate ({INSECURE}=1): anyone on the way can read and change what is sent to"
        " it, secrets included\n"
    )


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
    """A context's engine; its TLS checked against its own ca.pem, or the system's CAs when it
    has none (as the docker CLI does)."""
    from docker.tls import TLSConfig

    tls = None
    if context.tls is not None:
        files = {part: context.tls / f"{part}.pem" for part in ("ca", "cert", "key")}
        tls = TLSConfig(
            client_cert=(str(files["cert"]), str(files["key"])) if files["cert"].exists() else None,
            ca_cert=str(files["ca"]) if files["ca"].exists() else None,
            verify=context.verify,
        )
        why = f"The Docker context {context.name!r} says skip-tls-verify: create it without that"
        _checked(tls, why)
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
            url = str(given.get("base_url") or "")
            if not url.startswith("ssh://"):
                super().__init__(**given)
                return
            # The SDK would fill in port 22 and link to it itself; with its shell-out transport
            # and a version given it makes no connection, and the link is made here instead.
            wanted = given.get("version")
            version = docker.constants.MINIMUM_DOCKER_API_VERSION
            super().__init__(**{**given, "use_ssh_client": True, "version": wanted or version})
            from poc_runner.backends.docker import sshlink

            try:
                link = sshlink.adapter(url, self.timeout)
            except sshlink.LINK_ERRORS as exc:
                raise docker.errors.DockerException(f"ssh: {exc}") from None
            self.__dict__["_custom_adapter"].close()
            self.__dict__["_custom_adapter"] = link
            self.mount("http+docker://ssh", link)
            if wanted in (None, "auto"):
                self._version = self._retrieve_server_version()

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


def link() -> tuple[bool, str]:
    """How the engine is reached, for `poc doctor`: whether that is as it should be, and in
    words (which SSH client and the address it reaches; TLS checked or not)."""
    where = os.environ.get("DOCKER_HOST") or ""
    context = _chosen()
    if context is not None:
        where = context.host
    if where.startswith("ssh://"):
        from poc_runner.backends.docker.sshlink import describe

        return True, f"over SSH, with {describe(where)}"
    if where.startswith("tcp://"):
        tls, checked = (context.tls is not None, context.verify) if context else _env_tls()
        if not tls:
            return True, f"plain TCP to {where}, no TLS"
        if checked:
            return True, f"TLS to {where}, the engine's certificate checked"
        return False, f"TLS to {where} WITHOUT checking the engine's certificate ({INSECURE}=1)"
    return True, f"a local socket ({where or 'unix:///var/run/docker.sock'})"


def _env_tls() -> tuple[bool, bool]:
    """Whether DOCKER_HOST is reached over TLS, and with its certificate checked (as the docker
    SDK reads the environment)."""
    checked = bool(os.environ.get("DOCKER_TLS_VERIFY"))
    return checked or bool(os.environ.get("DOCKER_CERT_PATH")), checked


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


def read_info(client: docker.DockerClient, info: dict[str, Any] | None = None) -> EngineInfo:
    """What the engine is, from its /version and /info (the latter given when read already)."""
    version: dict[str, Any] = client.version()
    info = client.info() if info is None else info
    return EngineInfo(
        version=str(version.get("Version", "?")),
        api_version=str(version.get("ApiVersion", "?")),
        os=str(info.get("OperatingSystem", "?")),
        kernel=str(info.get("KernelVersion", "?")),
        cgroup_version=str(info.get("CgroupVersion", "1")),
        runtimes=tuple(sorted(info.get("Runtimes") or {})),
        name=str(info.get("Name", "?")),
        kind="docker",
        address=address(),
        remote=is_remote(client),
    )
