"""A service's Compose `volumes`, `configs` and `secrets`, the sandbox's way (spec, "compose"):
which volumes a run needs, what goes into each before a service mounts it, and where each
service mounts them. The plan of any backend; making and filling the volumes is the backend's
(backends/docker/volumes.py).

- A named volume is a fresh volume of the run, shared by the services that name it; an
  anonymous one is the service's own. Both are empty at first, so the engine fills them from
  the image on first mount, as Docker does.
- A bind mount of a folder inside the scenario folder is a copy, in a volume of its own shared
  by the services that bind it: read-only with `:ro`; otherwise writable, keeping the host's
  modes and owners as a bind mount shows them, and its changes never reach the host.
- A bound file, a config or a secret lands in a volume at its folder, per service: filled first
  from that service's image (so the folder keeps what the image has there), then the files
  on top. Read-only unless a bound file in it is writable.

Nothing is bind-mounted. Volumes are named `<prefix>-<what>`; without a prefix (the plan of a
run not yet named) just `<what>`, and the backend adds the run's.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from poc_runner.model import Scenario, Service
from poc_runner.sandbox.archive import Source

FILL_AT = "/poc-fill"  # where a filler mounts a volume it copies files into


@dataclass
class RunVolume:
    """One volume of the run, and what goes into it before a service mounts it."""

    name: str
    entries: list[tuple[Source, str]] = field(default_factory=list)  # (what, member name)
    at: str = FILL_AT  # where its filler mounts it: a file's folder, filled from the image first
    as_host: bool = False  # a writable copy keeps the host's modes and owners
    copies: bool = False  # a copy of the scenario folder, never filled from an image


@dataclass(frozen=True)
class Attach:
    volume: str
    target: str
    read_only: bool
    no_copy: bool = False


@dataclass
class VolumePlan:
    volumes: dict[str, RunVolume] = field(default_factory=dict)
    mounts: dict[str, list[Attach]] = field(default_factory=dict)  # service -> its mounts


def plan_mounts(scenario: Scenario, folder: Path, prefix: str = "") -> VolumePlan:
    """Which volumes the run's services need, and where each service mounts them."""
    plan = VolumePlan()
    copies: dict[str, str] = {}  # scenario-relative source -> its volume
    for name, service in scenario.services.items():
        mounts = plan.mounts.setdefault(name, [])
        files: dict[str, tuple[RunVolume, list[bool]]] = {}  # folder -> volume, read-only flags
        for index, mount in enumerate(service.volumes):
            if mount.host_clock:
                continue
            if mount.type == "tmpfs":
                continue  # a tmpfs mount (hardening.py)
            if mount.type == "volume":
                own = f"vol-{mount.source}" if mount.source else f"{name}-anon{index}"
                volume = named(prefix, own)
                plan.volumes.setdefault(volume, RunVolume(volume))
                no_copy = bool(mount.volume and mount.volume.nocopy)
                mounts.append(Attach(volume, mount.target, mount.read_only, no_copy))
                continue
            relative = mount.copied_from or "."
            source = folder / relative
            if source.is_file():
                _file(plan, files, name, prefix, mount.target, source, read_only=mount.read_only)
                continue
            volume = copies.get(relative) or named(prefix, f"copy{len(copies)}")
            if relative not in copies:
                copies[relative] = volume
                entries: list[tuple[Source, str]] = [(source, ".")] if source.is_dir() else []
                plan.volumes[volume] = RunVolume(volume, entries, copies=True)
            plan.volumes[volume].as_host |= not mount.read_only
            mounts.append(Attach(volume, mount.target, mount.read_only, no_copy=True))
        for kind in ("configs", "secrets"):
            for entry in service.configs if kind == "configs" else service.secrets:
                what: Source = folder / entry.file if entry.file else (entry.content or "").encode()
                _file(plan, files, name, prefix, entry.path_in(kind), what, read_only=True)
        for at, (held, read_only) in files.items():
            mounts.append(Attach(held.name, at, all(read_only)))
    return plan


def named(prefix: str, what: str) -> str:
    """A volume's name under a run's prefix (none: the plan's own name)."""
    return f"{prefix}-{what}" if prefix else what


def _file(
    plan: VolumePlan,
    files: dict[str, tuple[RunVolume, list[bool]]],
    service: str,
    prefix: str,
    target: str,
    what: Source,
    *,
    read_only: bool,
) -> None:
    at, member = posixpath.split(posixpath.normpath(target))
    if at not in files:
        name = named(prefix, f"{service}-files{len(files)}")
        volume = RunVolume(name, at=at)
        plan.volumes[name] = volume
        files[at] = (volume, [])
    volume, flags = files[at]
    volume.entries.append((what, member))
    flags.append(read_only)


def tmpfs_targets(service: Service) -> list[str]:
    """Long-syntax `type: tmpfs` volumes, as tmpfs mounts."""
    return [mount.target for mount in service.volumes if mount.type == "tmpfs"]
