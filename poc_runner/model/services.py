"""Services, in Docker Compose's vocabulary (spec, "services"), so a demo stack ports by copy-paste.

Every field of the spec's Compose table is a field here: honoured as in Compose, honoured the
sandbox's way (volumes, networks, limits), or accepted and ignored (validation/compose.py warns
once per field). Settings that would weaken the sandbox are rejected here with the reason,
naming the field; Compose fields that have no place in a sandbox at all (`network_mode`,
`devices`, ...) are not fields of the model, and the unknown-keys rule says why they are refused.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from poc_runner.model.types import (
    Command,
    ContainerPath,
    Disk,
    Duration,
    EnvMap,
    Memory,
    NetworkName,
    ScalarText,
    ScenarioPath,
    ServiceName,
    Strict,
    TextOrList,
    env_as_dict,
    error,
    reads_as_address,
    shape_of,
    show,
)
from poc_runner.model.volumes import Files, Volume

ALLOWED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
_LINK_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_NO_NEW_PRIVILEGES = re.compile(r"no-new-privileges([:=]true)?")
_IMAGE = re.compile(
    r"(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?"
)
PORT = re.compile(
    r"(?:(?P<ip>\d{1,3}(?:\.\d{1,3}){3}):)?(?:(?P<host>\d*(?:-\d+)?):)?"
    r"(?P<container>\d+(?:-\d+)?)(?:/(?P<protocol>tcp|udp))?"
)
MAX_PORTS = 100  # per service: each published port has a relay of its own


def _image(value: str) -> str:
    if not _IMAGE.fullmatch(value):
        raise error(
            "image", f"{value!r} is not an image reference like postgres:16 or registry/app:1.2"
        )
    return value


BUILD_NETWORKS = ("default", "none")


def _build_network(value: str) -> str:
    if value == "host":
        raise error(
            "security",
            "build.network: host is not allowed: a build's RUN would share this machine's"
            " network and reach everything it reaches; use `default` if the build downloads",
        )
    if value not in BUILD_NETWORKS:
        raise error(
            "build",
            f"build.network {show(value)} is not `default` (the engine's bridge, for a build"
            " that downloads) or `none`: the run's own network does not exist yet while its"
            " images are built",
        )
    return value


class BuildSpec(Strict):
    context: ScenarioPath = "."  # as in Compose
    dockerfile: ScenarioPath = "Dockerfile"
    args: EnvMap = Field(default_factory=dict)
    target: str | None = None  # a stage of a multi-stage Dockerfile
    # what the Dockerfile's RUN instructions reach; unset, the sandbox decides (build_network)
    network: Annotated[str, AfterValidator(_build_network)] | None = None


class Healthcheck(Strict):
    """Compose's healthcheck; durations default as in Compose."""

    test: TextOrList = Field(default_factory=list)  # none: the image's HEALTHCHECK (as Compose)
    interval: Duration = 30.0
    timeout: Duration = 30.0
    retries: Annotated[int, Field(ge=0)] = 3
    start_period: Duration = 0.0
    start_interval: Duration = 5.0
    disable: bool = False

    @field_validator("test")
    @classmethod
    def _known_form(cls, test: str | list[str]) -> str | list[str]:
        if isinstance(test, list) and test:
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

    @property
    def from_image(self) -> bool:
        """No `test` of its own: the image's HEALTHCHECK runs, with these settings over it."""
        return not self.test


class DependsOn(Strict):
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] = (
        "service_started"
    )
    required: bool = True  # false: skipped when the service is not in the stack (a profile)
    restart: bool = False  # Compose restarts dependents on `compose up`; nothing to do here


DEFAULT_DISK = 10 * 1024**3


class Resources(Strict):
    memory: Memory = 1024**3
    cpus: Annotated[float, Field(gt=0, le=256)] = 1.0
    pids: Annotated[int, Field(ge=16, le=65536)] = 512
    disk: Disk = DEFAULT_DISK  # what the service may write to its own file system


def _long_port(value: Any) -> Any:
    """Compose's long port syntax (`{target, published, host_ip, protocol}`) as a short one."""
    if not isinstance(value, dict):
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    unknown = value.keys() - {"target", "published", "host_ip", "protocol", "mode", "name"}
    unknown -= {"app_protocol"}
    if unknown or "target" not in value:
        raise error("port", "a long-syntax port is {target, published, host_ip, protocol}")
    ip = f"{value['host_ip']}:" if value.get("host_ip") else ""
    published = value.get("published")
    host = f"{published}:" if published not in (None, "") else (":" if ip else "")
    return f"{ip}{host}{value['target']}/{value.get('protocol') or 'tcp'}"


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
    hosts, containers = _span(match["host"]), _span(match["container"])
    for number in (*hosts, *containers):
        if not 0 < number < 65536:
            raise error("port", f"{number} is not a port number (1-65535)")
    if hosts and len(hosts) != len(containers):
        raise error("port", f"{value!r} maps ranges of different lengths")
    if len(containers) > MAX_PORTS:
        raise error("port", f"{value!r} is over {MAX_PORTS} ports; publish the ones the demo uses")
    return value


def _span(numbers: str | None) -> list[int]:
    """The ports a `8000` or `8000-8010` stands for."""
    if not numbers:
        return []
    low, _, high = numbers.partition("-")
    return list(range(int(low), int(high or low) + 1))


def _single_ports(ports: list[str]) -> list[str]:
    """Ranges as one port each, as the forwarder relays them."""
    single = []
    for port in ports:
        match = PORT.fullmatch(port)
        assert match is not None  # validated just before
        ip = f"{match['ip']}:" if match["ip"] else ""
        hosts = _span(match["host"])
        suffix = f"/{match['protocol']}" if match["protocol"] else ""
        for index, container in enumerate(_span(match["container"])):
            host = f"{hosts[index]}:" if hosts else (":" if ip else "")
            single.append(f"{ip}{host}{container}{suffix}")
    return single


def _link(link: str) -> str:
    if not all(_LINK_NAME.fullmatch(part) for part in link.split(":", 1)):
        raise error("links", f"{show(link)} is not SERVICE or SERVICE:ALIAS")
    if any(reads_as_address(part) for part in link.split(":", 1)):
        raise error(
            "security",
            f"{show(link)} names an IP address (numbers and dots, as `inet_aton` reads them):"
            " a link name becomes a name on the run's network, and a lookup of it would lead"
            " to that address; it needs a letter in it",
        )
    return link


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


Labels = Annotated[
    Annotated[dict[str, ScalarText], Tag("<mapping>")] | Annotated[list[str], Tag("<list>")],
    Discriminator(
        shape_of,
        custom_error_type="shape",
        custom_error_message="expected a mapping of name: value, or a list of name=value",
    ),
]
Ignored = Annotated[Any, Field(description="accepted and ignored in a sandbox (with a warning)")]


# The most a service may ask for (Compose's `ulimits`); -1, unlimited, is taken as the cap.
ULIMIT_CAPS = {"nofile": 65536, "nproc": 65536, "core": 0}
# Limits only a capability the sandbox never gives may raise (a container starting with more
# than the engine's own fails): accepted, and left at the engine's default.
ULIMITS_LEFT = frozenset(
    {"memlock", "stack", "msgqueue", "sigpending", "rtprio", "nice", "fsize", "cpu", "data"}
    | {"as", "locks", "rss", "rttime"}
)


class Ulimit(Strict):
    soft: int
    hard: int


def _ulimit(value: Any) -> Any:
    return {"soft": value, "hard": value} if isinstance(value, int | str) else value


class NetworkJoin(Strict):
    """A service's place on a Compose network: only its aliases mean anything here."""

    aliases: list[NetworkName] = Field(default_factory=list)
    ipv4_address: Ignored = None
    ipv6_address: Ignored = None
    priority: Ignored = None
    link_local_ips: Ignored = None
    mac_address: Ignored = None
    driver_opts: Ignored = None
    gw_priority: Ignored = None


NetworksRef = Annotated[
    Annotated[list[str], Tag("<list>")]
    | Annotated[dict[str, NetworkJoin | None], Tag("<mapping>")],
    Discriminator(
        shape_of,
        custom_error_type="shape",
        custom_error_message="expected a list of networks, or a mapping of network: {aliases}",
    ),
]


class Limits(Strict):
    cpus: Annotated[float, Field(gt=0, le=256)] | None = None
    memory: Memory | None = None
    pids: Annotated[int, Field(ge=16, le=65536)] | None = None


class DeployResources(Strict):
    limits: Limits | None = None
    reservations: Ignored = None


class Deploy(Strict):
    """Compose's `deploy`: only `resources.limits` has a meaning in a sandbox."""

    resources: DeployResources | None = None
    mode: Ignored = None
    replicas: Ignored = None
    labels: Ignored = None
    placement: Ignored = None
    restart_policy: Ignored = None
    rollback_config: Ignored = None
    update_config: Ignored = None
    endpoint_mode: Ignored = None


EnvFileRef = Annotated[
    Annotated[str, Tag("<text>")] | Annotated[list[str | dict[str, Any]], Tag("<list>")],
    Discriminator(
        shape_of, custom_error_type="shape", custom_error_message="expected a file or a list"
    ),
]
ExtendsRef = Annotated[
    Annotated[str, Tag("<text>")] | Annotated[dict[str, str], Tag("<mapping>")],
    Discriminator(
        shape_of,
        custom_error_type="shape",
        custom_error_message="expected a service name, or {service, file}",
    ),
]
PullPolicy = Literal["always", "never", "missing", "if_not_present", "build", "daily", "weekly"]


class Service(Strict):
    image: Annotated[str, AfterValidator(_image)] | None = None
    build: BuildRef | None = None
    environment: EnvMap = Field(default_factory=dict)
    env_file: EnvFileRef | None = None  # read into `environment` by the Compose stage
    healthcheck: Healthcheck | None = None
    command: Command | None = None
    entrypoint: Command | None = None
    working_dir: ContainerPath | None = None
    user: str | None = None
    hostname: NetworkName | None = None
    labels: Labels = Field(default_factory=dict)
    init: bool = True  # tini as PID 1 unless the service says otherwise
    depends_on: DependsOnRef = Field(default_factory=dict)
    profiles: list[str] = Field(default_factory=list)  # applied by the Compose stage
    extends: ExtendsRef | None = None  # resolved by the Compose stage
    pull_policy: PullPolicy | None = None
    tmpfs: Annotated[
        Annotated[ContainerPath, Tag("<text>")] | Annotated[list[ContainerPath], Tag("<list>")],
        Discriminator(
            shape_of, custom_error_type="shape", custom_error_message="expected a path or a list"
        ),
    ] = Field(default_factory=list)
    read_only: bool = False
    resources: Resources = Field(default_factory=Resources)
    mem_limit: Memory | None = None  # these four are mapped onto `resources`
    cpus: Annotated[float, Field(gt=0, le=256)] | None = None
    pids_limit: Annotated[int, Field(ge=16, le=65536)] | None = None
    deploy: Deploy | None = None
    ulimits: dict[str, Annotated[Ulimit, BeforeValidator(_ulimit)]] = Field(default_factory=dict)
    shm_size: Memory | None = None
    volumes: list[Volume] = Field(default_factory=list)
    configs: Files = Field(default_factory=list)
    secrets: Files = Field(default_factory=list)
    networks: NetworksRef = Field(default_factory=list)
    container_name: NetworkName | None = None
    links: list[Annotated[str, AfterValidator(_link)]] = Field(default_factory=list)
    ports: Annotated[
        list[Annotated[str, BeforeValidator(_long_port), AfterValidator(_port)]],
        AfterValidator(_single_ports),
    ] = Field(default_factory=list)
    restart: Ignored = None
    expose: Ignored = None
    stop_signal: Ignored = None
    stop_grace_period: Ignored = None
    stdin_open: Ignored = None
    tty: Ignored = None
    logging: Ignored = None
    cap_drop: Ignored = None
    platform: Ignored = None
    scale: Ignored = None
    develop: Ignored = None
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
    def limits(self) -> Resources:
        """`resources`, with Compose's `mem_limit`, `cpus`, `pids_limit` and
        `deploy.resources.limits` filling what it does not say itself."""
        given = self.resources.model_fields_set
        deployed = self.deploy.resources.limits if self.deploy and self.deploy.resources else None
        compose = {
            "memory": self.mem_limit or (deployed.memory if deployed else None),
            "cpus": self.cpus or (deployed.cpus if deployed else None),
            "pids": self.pids_limit or (deployed.pids if deployed else None),
        }
        update = {k: v for k, v in compose.items() if v is not None and k not in given}
        return self.resources.model_copy(update=update) if update else self.resources

    @property
    def network_names(self) -> list[str]:
        """Names this service answers to besides its own: its container name, its aliases."""
        names = [self.container_name] if self.container_name else []
        if isinstance(self.networks, dict):
            names += [a for join in self.networks.values() if join for a in join.aliases]
        return names

    @property
    def label_map(self) -> dict[str, str]:
        if isinstance(self.labels, dict):
            return dict(self.labels)
        return {name: value for name, _, value in (i.partition("=") for i in self.labels)}

    def build_network(self, sandbox: str) -> str | None:
        """The network its build's RUN instructions get (the engine's `network_mode`): none
        in an isolated sandbox unless `build.network: default` says the build downloads;
        the engine's default bridge (None) otherwise, unless `build.network: none`."""
        spec = self.build_spec
        given = spec.network if spec is not None else None
        if given == "none" or (sandbox == "isolated" and given != "default"):
            return "none"
        return None

    @property
    def build_spec(self) -> BuildSpec | None:
        if isinstance(self.build, str):  # validated as a path already: do not validate twice
            return BuildSpec.model_construct(context=self.build)
        return self.build

    @property
    def env(self) -> dict[str, str]:
        return env_as_dict(self.environment)
