"""From a validated scenario to what its sandbox is made of: the `SandboxPlan`, engine-neutral.

Every decision that follows from the scenario alone is taken here, once, whatever engine then
carries it out: how each service gets its image (built, found, pulled), what it runs with
(command, environment, user), its place on the network (hostname, aliases), how it is
confined (capabilities, memory, cpus, pids, open files, tmpfs, a read-only root), its data and
its volumes, what it waits for, and what identifies it (the fingerprint a reused sandbox is
checked against). A backend only translates these values into its engine's objects
(backends/docker/hardening.py, for one).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from poc_runner.errors import InvalidInput
from poc_runner.model import Scenario, Service
from poc_runner.model.services import ULIMIT_CAPS, Healthcheck
from poc_runner.model.types import env_as_dict
from poc_runner.sandbox.dataplan import DataVolume, data_plan, plan_volumes
from poc_runner.sandbox.startup import dependencies, jobs
from poc_runner.sandbox.volumeplan import VolumePlan, plan_mounts, tmpfs_targets

Network = Literal["isolated", "egress"]
Pull = Literal["missing", "always", "never"]

# Docker's default set minus what a sandbox does not need (NET_RAW: spoofing and raw sockets,
# MKNOD, SETFCAP, SETPCAP, SYS_CHROOT, AUDIT_WRITE, FSETID, NET_BIND_SERVICE unless asked for).
# What remains lets an image whose entrypoint starts as root prepare its data folder and drop to
# its service user (PostgreSQL, MariaDB and nginx images do): CHOWN, DAC_OVERRIDE, FOWNER,
# SETUID, SETGID, and KILL to stop its own workers. A process that runs as a non-root user has
# none of them whatever this list says.
DEFAULT_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "KILL")
OPEN_FILES = (4096, 8192)  # soft, hard; a container may lower the limits, not raise them


@dataclass(frozen=True)
class Confinement:
    """How one service is confined, whatever its scenario asks (CIS Docker Benchmark §5): the
    sandbox's floor, within which a scenario can only move (its own `resources`,
    NET_BIND_SERVICE, a read-only root file system, tmpfs mounts). Never privileged, all other
    capabilities dropped, no new privileges: no field can say otherwise."""

    capabilities: tuple[str, ...]  # all others are dropped
    memory: int  # bytes, swap included: no swap
    cpus: float
    pids: int
    ulimits: tuple[tuple[str, int, int], ...]  # (name, soft, hard)
    shm_size: int | None
    init: bool  # a tiny init as PID 1: reaps zombies and forwards signals
    read_only: bool
    tmpfs: tuple[str, ...]  # paths mounted as tmpfs
    disk: int  # bytes the service may write to its own file system (watched)


def confinement_of(service: Service) -> Confinement:
    resources = service.limits
    capabilities = sorted(
        {*DEFAULT_CAPABILITIES, *(c.upper().removeprefix("CAP_") for c in service.cap_add)}
    )
    written = [service.tmpfs] if isinstance(service.tmpfs, str) else list(service.tmpfs)
    return Confinement(
        capabilities=tuple(capabilities),
        memory=resources.memory,
        cpus=resources.cpus,
        pids=resources.pids,
        ulimits=tuple((name, soft, hard) for name, (soft, hard) in _limits(service)),
        shm_size=min(service.shm_size, resources.memory) if service.shm_size else None,
        init=service.init,
        read_only=service.read_only,
        tmpfs=(*written, *tmpfs_targets(service)),
        disk=resources.disk,
    )


def _limits(service: Service) -> list[tuple[str, tuple[int, int]]]:
    """Open files as the sandbox sets them, then what the service asks for (Compose's
    `ulimits`) of those it may raise, each within its cap; -1 (unlimited) is the cap."""
    limits: dict[str, tuple[int, int]] = {"nofile": OPEN_FILES}
    for name, asked in service.ulimits.items():
        cap = ULIMIT_CAPS.get(name)
        if cap is None:
            continue  # left at the engine's default (validation says so)
        soft, hard = (cap if value < 0 else min(value, cap) for value in (asked.soft, asked.hard))
        limits[name] = (soft, hard)
    return list(limits.items())


@dataclass(frozen=True)
class Build:
    """A service's `build`: its folder and Dockerfile, with what the build is given."""

    context: Path
    dockerfile: str
    args: Mapping[str, str]
    target: str | None
    tag: str  # `image:` when given, else poc-runner/<scenario>-<service>:latest
    network: str | None  # "none": no network while it builds; None: the engine's default


@dataclass(frozen=True)
class Image:
    """How a service gets its image: built from `build` when `built`, else `reference` found
    here or pulled as `pull` says (Compose's `pull_policy`). A service with both `build` and
    `image` may be told to pull; its build still names the image a reused sandbox expects."""

    reference: str | None
    build: Build | None = None
    pull: Pull = "missing"
    built: bool = False


def image_of(scenario: Scenario, name: str, folder: Path) -> Image:
    service = scenario.services[name]
    policy = service.pull_policy
    spec = service.build_spec
    build = None
    if spec is not None:
        build = Build(
            context=folder / spec.context,
            dockerfile=spec.dockerfile,
            args=env_as_dict(spec.args),
            target=spec.target,
            tag=service.image or built_tag(scenario.name, name),
            network=service.build_network(scenario.sandbox.network),
        )
        if policy in (None, "build") or service.image is None:
            return Image(service.image, build, built=True)
    pull: Pull = "always" if policy == "always" else "never" if policy == "never" else "missing"
    return Image(service.image or "", build, pull)


def built_tag(scenario: str, service: str) -> str:
    return f"poc-runner/{scenario}-{service}:latest"


@dataclass(frozen=True)
class ServicePlan:
    """One service, as a backend makes it."""

    name: str
    image: Image
    command: str | list[str] | None
    entrypoint: str | list[str] | None
    working_dir: str | None
    user: str | None
    environment: Mapping[str, str]
    labels: Mapping[str, str]
    hostname: str | None  # its own, if it has one (else its name)
    aliases: tuple[str, ...]  # names it answers to besides its own: container name, aliases, links
    healthcheck: Healthcheck | None
    depends_on: Mapping[str, str]  # service -> condition, as Compose means it
    ports: tuple[str, ...]  # published only by `poc up` / `--keep`, on 127.0.0.1
    confinement: Confinement
    artifacts: tuple[str, ...]  # paths its steps collect (cleared on a reused sandbox)
    fields: Mapping[str, str]  # a digest per field of its definition (`fingerprint`)


@dataclass(frozen=True)
class SandboxPlan:
    """One scenario's sandbox, as any engine makes it."""

    scenario: Scenario  # the validated scenario (what the checks read)
    folder: Path  # the scenario's folder: builds, data and copies are read from it
    network: Network
    timeout: float  # seconds: `sandbox.timeout`
    services: Mapping[str, ServicePlan]  # in the file's order
    data: tuple[DataVolume, ...]  # a template: a backend fills copies of its own
    volumes: VolumePlan  # Compose's volumes, configs and secrets (names without a prefix)

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def jobs(self) -> frozenset[str]:
        """Services others wait to complete: their exit, with code 0, is their success."""
        return frozenset(jobs(self.scenario))

    def order(self) -> list[str]:
        """The services in an order that starts each after what it depends on (file order
        where nothing decides), for a backend that starts them one by one."""
        placed: list[str] = []
        pending = list(self.services)
        while pending:
            ready = [n for n in pending if set(self.services[n].depends_on) <= set(placed)]
            if not ready:  # validation refuses cycles; whatever is left goes in file order
                ready = pending[:1]
            placed += ready
            pending = [n for n in pending if n not in ready]
        return placed

    def fingerprint(self, service: str, image: str) -> str:
        """What a service's container is made from: a short digest of each field of its
        definition, of the data it mounts and of its image. Kept on the service, it tells a
        sandbox left up that still serves the scenario from one that no longer does (a
        label: digests only, no value is readable)."""
        fields = dict(self.services[service].fields)
        fields["(data)"] = _digest(data_plan(service, list(self.data)))
        fields["(image)"] = _digest(image)
        return json.dumps(dict(sorted(fields.items())))


def plan_sandbox(scenario: Scenario, folder: Path) -> SandboxPlan:
    """The plan of a validated scenario whose files are in `folder`."""
    artifacts: dict[str, list[str]] = {}
    for step in scenario.steps:
        artifacts.setdefault(step.service, []).extend(step.artifacts)
    services = {
        name: _service(scenario, name, folder, sorted(set(artifacts.get(name, []))))
        for name in scenario.services
    }
    return SandboxPlan(
        scenario=scenario,
        folder=folder,
        network=scenario.sandbox.network,
        timeout=scenario.sandbox.timeout,
        services=services,
        data=tuple(plan_volumes(scenario, folder)),
        volumes=plan_mounts(scenario, folder),
    )


def _service(scenario: Scenario, name: str, folder: Path, artifacts: list[str]) -> ServicePlan:
    service = scenario.services[name]
    return ServicePlan(
        name=name,
        image=image_of(scenario, name, folder),
        command=service.command,
        entrypoint=service.entrypoint,
        working_dir=service.working_dir,
        user=service.user,
        environment=service.env,
        labels=service.label_map,
        hostname=service.hostname,
        aliases=tuple(dns_names(scenario, name)),
        healthcheck=service.healthcheck,
        depends_on=dependencies(scenario, name),
        ports=tuple(service.ports),
        confinement=confinement_of(service),
        artifacts=tuple(artifacts),
        fields=_fields(service),
    )


def dns_names(scenario: Scenario, service: str) -> list[str]:
    """The names a service answers to besides its own: its container name and aliases, and
    the names other services' `links` give it."""
    names = list(scenario.services[service].network_names)
    for other in scenario.services.values():
        for link in other.links:
            target, _, alias = link.partition(":")
            if target == service and alias:
                names.append(alias)
    return names


def _fields(service: Service) -> dict[str, str]:
    # the shape-routed unions (build: a folder or a mapping) serialize by trying each shape,
    # which is right; pydantic warns that it had to, so it is asked not to
    dumped: dict[str, Any] = service.model_dump(mode="json", warnings=False)
    return {name: _digest(value) for name, value in dumped.items()}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def not_up(scenario: str, path: Path | str) -> InvalidInput:
    """What `--reuse`, `poc shell` and the API say when no sandbox of the scenario is up."""
    return InvalidInput(
        f"{scenario} is not up (none was started, or `poc down` or `poc clean` removed it"
        f" since): start it with `poc up {path}`"
    )


def refusal(
    started: Mapping[str, str | None], now: Mapping[str, str], path: Path | str
) -> str | None:
    """Why a sandbox left up cannot serve the scenario as it is now, or None when it can: each
    service's fingerprint as it was started (`started`) against the plan's now (`now`), field
    by field; whatever engine kept the first."""
    problems = []
    for name, fingerprint in now.items():
        if fields := _changes(started.get(name), fingerprint):
            problems.append(f"{name} ({', '.join(_said(field) for field in fields)})")
    problems += [f"{name} is no longer in the scenario" for name in started if name not in now]
    if not problems:
        return None
    return (
        f"the services changed since the sandbox was brought up: {'; '.join(problems)}. A"
        f" reused sandbox runs what was started: run `poc down {path}`, then `poc up {path}`"
    )


def _changes(made: str | None, now: str) -> list[str]:
    """The fields that differ between two fingerprints (every one when the first is unknown)."""
    before: dict[str, str] = json.loads(made) if made else {}
    after: dict[str, str] = json.loads(now)
    return [name for name in after if before.get(name) != after[name]]


def _said(field: str) -> str:
    return {"(data)": "its data mounts", "(image)": "its image or build folder"}.get(field, field)


def command_argv(command: str | list[str]) -> list[str]:
    """A step's `run` (or a command's): text goes through `sh -c`, a list is the argv itself
    (as in Compose)."""
    return ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)


def healthcheck_argv(check: Healthcheck) -> list[str]:
    test = check.test
    if isinstance(test, str):
        return command_argv(test)
    if test[0] == "CMD-SHELL":
        return command_argv(test[1])
    return list(test[1:])  # "CMD"


__all__ = [
    "Build",
    "Confinement",
    "Image",
    "SandboxPlan",
    "ServicePlan",
    "command_argv",
    "healthcheck_argv",
    "plan_sandbox",
]
