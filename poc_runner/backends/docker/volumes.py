"""A service's Compose `volumes`, `configs` and `secrets`, the sandbox's way (spec, "compose").

- A named volume is a fresh volume of the run, shared by the services that name it; an
  anonymous one is the service's own. Both are empty at first, so the engine fills them from
  the image on first mount, as Docker does.
- A bind mount of a folder inside the scenario folder is a copy, in a volume of its own shared
  by the services that bind it: read-only with `:ro`; otherwise writable, keeping the host's
  modes and owners as a bind mount shows them, and its changes never reach the host.
- A bound file, a config or a secret lands in a volume at its folder, per service: filled first
  from that service's image (so the folder keeps what the image has there), then the files
  on top. Read-only unless a bound file in it is writable.

Every volume carries the run's labels and is removed at teardown. Nothing is bind-mounted.
"""

from __future__ import annotations

import posixpath
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from poc_runner.backends.docker.data import FILL_AT
from poc_runner.backends.docker.helpers import create_unstarted
from poc_runner.errors import SandboxError
from poc_runner.model import Scenario, Service
from poc_runner.sandbox.archive import Cut, Source, pack

if TYPE_CHECKING:
    import docker


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


def plan_mounts(scenario: Scenario, folder: Path, prefix: str) -> VolumePlan:
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
                volume = (
                    f"{prefix}-vol-{mount.source}"
                    if mount.source
                    else f"{prefix}-{name}-anon{index}"
                )
                plan.volumes.setdefault(volume, RunVolume(volume))
                no_copy = bool(mount.volume and mount.volume.nocopy)
                mounts.append(Attach(volume, mount.target, mount.read_only, no_copy))
                continue
            relative = mount.copied_from or "."
            source = folder / relative
            if source.is_file():
                _file(plan, files, name, prefix, mount.target, source, read_only=mount.read_only)
                continue
            volume = copies.get(relative) or f"{prefix}-copy{len(copies)}"
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
        name = f"{prefix}-{service}-files{len(files)}"
        volume = RunVolume(name, at=at)
        plan.volumes[name] = volume
        files[at] = (volume, [])
    volume, flags = files[at]
    volume.entries.append((what, member))
    flags.append(read_only)


class RunVolumes:
    """The plan, carried out as services need it: each volume made (and filled) once, by the
    first service that mounts it, and each recorded the moment it exists, so a teardown at any
    point removes it."""

    def __init__(
        self, client: docker.DockerClient, plan: VolumePlan, labels: dict[str, str]
    ) -> None:
        self.client, self.plan, self.labels = client, plan, labels
        self.made: list[str] = []
        self._ready: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._closed = False

    def mounts(self, service: str) -> list[object]:
        from docker.types import Mount

        return [
            Mount(a.target, a.volume, type="volume", read_only=a.read_only, no_copy=a.no_copy)
            for a in self.plan.mounts.get(service, [])
        ]

    def ready_for(self, service: str, image: str) -> None:
        """Make and fill every volume `service` (whose image is `image`) mounts."""
        for attach in self.plan.mounts.get(service, []):
            volume = self.plan.volumes[attach.volume]
            with self._lock:
                first = volume.name not in self._ready
                done = self._ready.setdefault(volume.name, threading.Event())
            if not first:
                done.wait()
                continue
            try:
                self._make(volume, image)
            finally:
                done.set()

    def _make(self, volume: RunVolume, image: str) -> None:
        with self._lock:
            if self._closed:
                raise SandboxError("the sandbox was torn down while it was being built")
            self.client.volumes.create(volume.name, labels=self.labels)
            self.made.append(volume.name)
        if volume.entries:  # a copy in progress stops once the sandbox closes
            _fill(self.client, volume, image, self.labels, cut=lambda: self._closed)

    def close(self) -> list[str]:
        """No volume is made from now on; the names of those made, for removal."""
        with self._lock:
            self._closed = True
            return list(self.made)


def _fill(
    client: docker.DockerClient,
    volume: RunVolume,
    image: str,
    labels: dict[str, str],
    cut: Cut | None = None,
) -> None:
    """Copy the volume's entries in through a container that is created, never started. Made
    from the service's image and mounted where the service mounts it, the engine first copies
    what the image has in that folder (a copy of the scenario folder skips that)."""
    from docker.types import Mount

    mount = Mount(volume.at, volume.name, type="volume", no_copy=volume.copies)
    filler = create_unstarted(client, image, [mount], labels)
    try:
        packed = pack(volume.entries, as_host=volume.as_host, cut=cut)
        if not filler.put_archive(volume.at, packed.chunks()):
            raise SandboxError(f"could not copy files into the sandbox at {volume.at}")
    finally:
        filler.remove(force=True)


def tmpfs_targets(service: Service) -> list[str]:
    """Long-syntax `type: tmpfs` volumes, as tmpfs mounts."""
    return [mount.target for mount in service.volumes if mount.type == "tmpfs"]
