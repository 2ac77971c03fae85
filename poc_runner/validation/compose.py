"""What each Compose field does in a sandbox, said where the scenario or its Compose files write
it (spec, "compose", the field table).

Fields a sandbox ignores get one warning each, at the first place they are written, naming the
services that have them and why. The rest are the rules only the whole stack can tell: named
volumes are declared, links and DNS names lead somewhere and do not clash, limits stay within
the sandbox's caps, two things are never mounted at one path, the host's clock files are left out.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from poc_runner.diagnostics import KeyPath
from poc_runner.model import Scenario, Service
from poc_runner.model.services import ULIMIT_CAPS, ULIMITS_LEFT
from poc_runner.sandbox.startup import jobs
from poc_runner.units import size_text
from poc_runner.validation.findings import Findings, did_you_mean
from poc_runner.validation.references import refer
from poc_runner.validation.salvage import Choices

IGNORED: dict[str, str] = {
    "restart": "sandbox containers are never restarted: a crash is evidence",
    "expose": "services reach each other on every port of the run's network",
    "stop_signal": "the sandbox is removed at once at the end, without a stop signal",
    "stop_grace_period": "the sandbox is removed at once at the end, without a grace period",
    "stdin_open": "services run without a terminal; steps run through `docker exec`",
    "tty": "services run without a terminal; steps run through `docker exec`",
    "logging": "poc-runner keeps each service's log itself (capped at 20 MB)",
    "cap_drop": "every capability is dropped already; the sandbox adds back only a few",
    "platform": "images run on the engine's own platform",
    "scale": "each service runs one container",
    "develop": "watch mode is for development; a run uses the images as they are",
}
_DEPLOY_WHY = "only `deploy.resources.limits` applies here (as `resources`); one container each"


def check_compose(scenario: Scenario, findings: Findings) -> None:
    _ignored_fields(scenario, findings)
    _dns_names(scenario, findings)
    declared, services = set(scenario.volumes), Choices(list(scenario.services))
    for name, service in scenario.services.items():
        _volumes(name, service, declared, findings)
        for index, link in enumerate(service.links):
            target = link.split(":", 1)[0]
            refer(findings, ("services", name, "links", index), "service", target, services)
        _limits(("services", name), service, findings)
        _mount_points(scenario, name, service, findings)
    done = jobs(scenario)
    for index, step in enumerate(scenario.steps):
        if step.service in done:
            findings.error(
                ("steps", index, "service"),
                f"service {step.service!r} is a job others wait to complete"
                " (`service_completed_successfully`): it has exited before the steps run; run"
                " the step in a service that stays up",
                "reference",
            )
    for name, volume in scenario.volumes.items():
        if volume is not None and volume.external:
            findings.warning(
                ("volumes", name, "external"),
                f"volume {name!r} is external: the run uses a fresh volume of its own instead,"
                " filled from the image on first mount",
                "ignored",
            )


def _ignored_fields(scenario: Scenario, findings: Findings) -> None:
    """One warning per ignored field, at its first place, naming every service with it."""
    written: dict[str, list[KeyPath]] = {}
    for name, service in scenario.services.items():
        for field, path in _ignored_in(name, service):
            written.setdefault(field, []).append(path)
    for field, paths in written.items():
        services = sorted({str(path[1]) for path in paths})
        why = _DEPLOY_WHY if field.startswith("deploy") else IGNORED[field]
        findings.warning(
            paths[0],
            f"`{field}` is ignored in a sandbox ({', '.join(services)}): {why}",
            "ignored",
            at_key=True,
        )


def _ignored_in(name: str, service: Service) -> Iterator[tuple[str, KeyPath]]:
    here: KeyPath = ("services", name)
    for field in IGNORED:
        if field in service.model_fields_set:
            yield field, (*here, field)
    deploy = service.deploy
    if deploy is not None:
        others = sorted(deploy.model_fields_set - {"resources"})
        if deploy.resources is not None and "reservations" in deploy.resources.model_fields_set:
            others.append("resources.reservations")
        for part in others:
            first = part.split(".")[0]
            yield f"deploy.{part}", (*here, "deploy", first)


def _volumes(name: str, service: Service, declared: set[str], findings: Findings) -> None:
    for index, mount in enumerate(service.volumes):
        at: KeyPath = ("services", name, "volumes", index)
        if mount.host_clock:
            findings.warning(
                at,
                f"{mount.source} is left out: containers keep UTC; set the `TZ` environment"
                " variable for another time zone",
                "ignored",
                fix="environment: {TZ: Europe/Berlin}",
            )
        elif mount.type == "volume" and mount.source and mount.source not in declared:
            findings.error(
                at,
                f"volume {mount.source!r} is not declared under the top-level `volumes:`"
                f"{did_you_mean(mount.source, declared)}; Compose needs that too",
                "reference",
                fix=f"volumes:\n  {mount.source}:",
            )


def _dns_names(scenario: Scenario, findings: Findings) -> None:
    """Every name a service answers to on the run's network; two services never share one."""
    owners = {name: name for name in scenario.services}
    for name, service in scenario.services.items():
        for extra, path in _extra_names(name, service):
            owner = owners.setdefault(extra, name)
            if owner != name:
                findings.error(
                    path,
                    f"{extra!r} is already the name of service {owner!r} on the run's network;"
                    " choose another",
                    "duplicate-name",
                )


def _extra_names(name: str, service: Service) -> Iterator[tuple[str, KeyPath]]:
    here: KeyPath = ("services", name)
    if service.container_name and service.container_name != name:
        yield service.container_name, (*here, "container_name")
    if isinstance(service.networks, dict):
        for network, join in service.networks.items():
            for index, alias in enumerate(join.aliases if join else ()):
                if alias != name:
                    yield alias, (*here, "networks", network, "aliases", index)


def _limits(here: KeyPath, service: Service, findings: Findings) -> None:
    for limit, value in service.ulimits.items():
        at: KeyPath = (*here, "ulimits", limit)
        cap = ULIMIT_CAPS.get(limit)
        if limit in ULIMITS_LEFT:
            findings.warning(
                at,
                f"ulimit {limit} stays at the engine's default: raising it needs a capability"
                " the sandbox never gives",
                "ulimits",
                at_key=True,
            )
        elif cap is None:
            known = [*ULIMIT_CAPS, *sorted(ULIMITS_LEFT)]
            findings.error(
                at,
                f"{limit!r} is not a ulimit{did_you_mean(limit, known)}; the sandbox sets"
                f" {', '.join(ULIMIT_CAPS)}",
                "ulimits",
                at_key=True,
            )
        elif value.soft > cap or value.hard > cap or min(value.soft, value.hard) < 0:
            findings.warning(
                at,
                f"ulimit {limit} is capped at {cap} in a sandbox (the file asks for"
                f" {value.soft}/{value.hard}, -1 meaning unlimited)",
                "ulimits",
            )
    shm = service.shm_size
    if shm is not None and shm > service.limits.memory:
        findings.warning(
            (*here, "shm_size"),
            f"shm_size is capped at the service's memory limit"
            f" ({size_text(service.limits.memory)}): shared memory counts against it",
            "limits",
        )


def _mount_points(scenario: Scenario, name: str, service: Service, findings: Findings) -> None:
    """Two things mounted at one path would fail at start-up: say it here."""
    taken: dict[str, KeyPath] = {}
    here: KeyPath = ("services", name)
    places: list[tuple[str, KeyPath]] = []
    for index, item in enumerate(scenario.data):
        if item.services is None or name in item.services:
            places.append((posixpath.normpath(item.mount), ("data", index, "mount")))
    for index, mount in enumerate(service.volumes):
        if not mount.host_clock:
            places.append((posixpath.normpath(mount.target), (*here, "volumes", index)))
    for kind in ("configs", "secrets"):
        entries = service.configs if kind == "configs" else service.secrets
        for index, entry in enumerate(entries):
            target = entry.path_in(kind)
            places.append((posixpath.normpath(target), (*here, kind, index)))
            if posixpath.dirname(posixpath.normpath(target)) == "/":
                findings.error(
                    (*here, kind, index),
                    f"{target!r} is a file at the top of the container's file system; the"
                    " sandbox copies files into a folder: give it a `target` such as"
                    f" /etc/{posixpath.basename(target)}",
                    "mount",
                    fix=f"- source: {entry.source}\n  target: /etc/{posixpath.basename(target)}",
                )
    for target, path in places:
        if target in taken:
            findings.error(
                path, f"{target!r} is already mounted in service {name!r}", "duplicate-name"
            )
        taken.setdefault(target, path)
