"""Services, in Docker Compose's vocabulary (spec, "services"), so a demo stack ports by copy-paste.

Settings that would weaken the sandbox are rejected here with the reason, naming the field.
Compose fields that have no place in a sandbox at all (`volumes`, `network_mode`, ...) are not
fields of the model; the unknown-keys rule explains why they are refused.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator, model_validator

from poc_runner.model.types import (
    Command,
    ContainerPath,
    Disk,
    Duration,
    EnvMap,
    Memory,
    ScenarioPath,
    ServiceName,
    Strict,
    TextOrList,
    env_as_dict,
    error,
    shape_of,
)

ALLOWED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
_NO_NEW_PRIVILEGES = re.compile(r"no-new-privileges([:=]true)?")
_IMAGE = re.compile(
    r"(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?"
)
PORT = re.compile(
    r"(?:(?P<ip>\d{1,3}(?:\.\d{1,3}){3}):)?(?:(?P<host>\d*):)?(?P<container>\d+)(?:/(?:tcp|udp))?"
)


def _image(value: str) -> str:
    if not _IMAGE.fullmatch(value):
        raise error(
            "image", f"{value!r} is not an image reference like postgres:16 or registry/app:1.2"
        )
    return value


class BuildSpec(Strict):
    context: ScenarioPath
    dockerfile: ScenarioPath = "Dockerfile"
    args: EnvMap = Field(default_factory=dict)


class Healthcheck(Strict):
    """Compose's healthcheck; durations default as in Compose."""

    test: TextOrList
    interval: Duration = 30.0
    timeout: Duration = 30.0
    retries: Annotated[int, Field(ge=0)] = 3
    start_period: Duration = 0.0
    start_interval: Duration = 5.0
    disable: bool = False

    @field_validator("test")
    @classmethod
    def _known_form(cls, test: str | list[str]) -> str | list[str]:
        if isinstance(test, list):
            form = test[0] if test else ""
            if form not in ("CMD", "CMD-SHELL", "NONE"):
                raise error(
                    "healthcheck",
                    'a healthcheck test list starts with "CMD", "CMD-SHELL" or "NONE",'
                    ' e.g. ["CMD", "pg_isready"]',
                )
            if form == "CMD" and len(test) < 2:
                raise error("healthcheck", '"CMD" needs the command after it')
            if form == "CMD-SHELL" and len(test) != 2:
                raise error("healthcheck", '"CMD-SHELL" takes exactly one shell command string')
        return test

    @property
    def enabled(self) -> bool:
        return not self.disable and self.test != ["NONE"]


class DependsOn(Strict):
    condition: Literal["service_started", "service_healthy"] = "service_started"


DEFAULT_DISK = 10 * 1024**3


class Resources(Strict):
    memory: Memory = 1024**3
    cpus: Annotated[float, Field(gt=0, le=256)] = 1.0
    pids: Annotated[int, Field(ge=16, le=65536)] = 512
    disk: Disk = DEFAULT_DISK  # what the service may write to its own file system


def _port(value: str) -> str:
    match = PORT.fullmatch(value)
    if match is None:
        raise error("port", f"{value!r} is not a port like 8080, 9000:8080 or 127.0.0.1:9000:8080")
    if match["ip"] not in (None, "127.0.0.1"):
        raise error(
            "security",
            f"port {value!r} would listen on {match['ip']}; `poc up` publishes ports on"
            " 127.0.0.1 only, so the sandbox is never reachable from the network",
        )
    for number in (match["host"], match["container"]):
        if number and not 0 < int(number) < 65536:
            raise error("port", f"{number} is not a port number (1-65535)")
    return value


def _capability(value: str) -> str:
    if value.upper().removeprefix("CAP_") not in ALLOWED_CAPABILITIES:
        raise error(
            "security",
            f"cap_add {value!r} is not allowed: extra capabilities weaken the sandbox; only"
            " NET_BIND_SERVICE (listening on ports below 1024) may be added",
        )
    return value


def _security_opt(value: str) -> str:
    if not _NO_NEW_PRIVILEGES.fullmatch(value):
        raise error(
            "security",
            f"security_opt {value!r} is not allowed: it weakens or replaces the sandbox's"
            " confinement (seccomp, AppArmor and no-new-privileges stay on)",
        )
    return value


BuildRef = Annotated[
    Annotated[ScenarioPath, Tag("<text>")] | Annotated[BuildSpec, Tag("<mapping>")],
    Discriminator(
        shape_of,
        custom_error_type="shape",
        custom_error_message="expected a folder with a Dockerfile, or {context, dockerfile, args}",
    ),
]
DependsOnRef = Annotated[
    Annotated[list[ServiceName], Tag("<list>")]
    | Annotated[dict[ServiceName, DependsOn], Tag("<mapping>")],
    Discriminator(
        shape_of,
        custom_error_type="shape",
        custom_error_message="expected a list of services, or a mapping of service: {condition}",
    ),
]


class Service(Strict):
    image: Annotated[str, AfterValidator(_image)] | None = None
    build: BuildRef | None = None
    environment: EnvMap = Field(default_factory=dict)
    healthcheck: Healthcheck | None = None
    command: Command | None = None
    entrypoint: Command | None = None
    working_dir: ContainerPath | None = None
    user: str | None = None
    depends_on: DependsOnRef = Field(default_factory=dict)
    tmpfs: Annotated[
        Annotated[ContainerPath, Tag("<text>")] | Annotated[list[ContainerPath], Tag("<list>")],
        Discriminator(
            shape_of, custom_error_type="shape", custom_error_message="expected a path or a list"
        ),
    ] = Field(default_factory=list)
    read_only: bool = False
    resources: Resources = Field(default_factory=Resources)
    ports: list[Annotated[str, AfterValidator(_port)]] = Field(default_factory=list)
    privileged: bool = False
    cap_add: list[Annotated[str, AfterValidator(_capability)]] = Field(default_factory=list)
    security_opt: list[Annotated[str, AfterValidator(_security_opt)]] = Field(default_factory=list)
    userns_mode: str | None = None

    @field_validator("privileged")
    @classmethod
    def _not_privileged(cls, privileged: bool) -> bool:
        if privileged:
            raise error(
                "security",
                "privileged: true is not allowed: it gives the container full control of the"
                " host, which a sandbox must never have",
            )
        return privileged

    @field_validator("userns_mode")
    @classmethod
    def _no_host_userns(cls, mode: str | None) -> str | None:
        if mode == "host":
            raise error(
                "security",
                "userns_mode: host is not allowed: it maps the container's root onto the host's",
            )
        if mode:
            raise error("userns_mode", f"userns_mode {mode!r} is not supported; leave it out")
        return mode

    @model_validator(mode="after")
    def _image_or_build(self) -> Service:
        if self.image is None and self.build is None:
            raise error("image", "a service needs `image`, `build`, or both (build, then tag)")
        return self

    @property
    def build_spec(self) -> BuildSpec | None:
        if isinstance(self.build, str):  # validated as a path already: do not validate twice
            return BuildSpec.model_construct(context=self.build)
        return self.build

    @property
    def env(self) -> dict[str, str]:
        return env_as_dict(self.environment)
