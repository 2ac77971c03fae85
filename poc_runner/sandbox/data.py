"""The prospect's data, copied into the sandbox read-only (spec, "data").

Each data folder becomes a Docker volume mounted read-only where the scenario says; data files
are gathered by their folder, which becomes a read-only volume holding them. Read-only mounts
hold even against a process running as root inside the container (it has no CAP_SYS_ADMIN to
remount), which file modes alone would not. Nothing is bind-mounted from the host: the volumes
hold copies, streamed in (archive.py) through a container that is created, never started.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from poc_runner.errors import SandboxError
from poc_runner.model import Scenario
from poc_runner.sandbox.archive import Packed, folder_digest, pack
from poc_runner.sandbox.hashindex import HashIndex

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

FILL_AT = "/poc-fill"


@dataclass
class DataVolume:
    """One read-only mount point and the data items it carries."""

    mount: str
    services: set[str] = field(default_factory=set)
    entries: list[tuple[Path, str]] = field(default_factory=list)  # (host path, member name)
    folders: list[str] = field(default_factory=list)  # empty mount points of nested volumes
    name: str = ""


def plan_volumes(scenario: Scenario, folder: Path) -> list[DataVolume]:
    """Which volumes the data needs, where they mount, and which services see them.

    A service sees exactly the items listed for it: two services that see different files in
    one folder get a volume each; services that see the same files share one."""
    volumes: dict[tuple[str, tuple[tuple[Path, str], ...]], DataVolume] = {}
    for service in scenario.services:
        seen: dict[str, list[tuple[Path, str]]] = {}
        for item in scenario.data:
            if item.services is not None and service not in item.services:
                continue
            source = folder / item.path
            mount = posixpath.normpath(item.mount)
            if source.is_dir():
                seen.setdefault(mount, []).append((source, "."))
            else:
                parent, name = posixpath.split(mount)
                seen.setdefault(parent, []).append((source, name))
        for mount, entries in seen.items():
            key = (mount, tuple(entries))
            volume = volumes.setdefault(key, DataVolume(mount, entries=entries))
            volume.services.add(service)
    for volume in volumes.values():
        for other in volumes.values():
            if other.mount.startswith(volume.mount.rstrip("/") + "/"):
                volume.folders.append(posixpath.relpath(other.mount, volume.mount))
    return sorted(volumes.values(), key=lambda v: v.mount)


def checksums(scenario: Scenario, digests: dict[str, str]) -> dict[str, str]:
    """sha256 per data item: of the file, or over a folder's files (see `folder_digest`)."""
    by_item: dict[str, str] = {}
    for item in scenario.data:
        mount = posixpath.normpath(item.mount)
        by_item[item.name] = digests.get(mount) or folder_digest(digests, mount + "/")
    return by_item


def fill_volumes(
    client: docker.DockerClient,
    volumes: list[DataVolume],
    image: str,
    labels: dict[str, str],
    prefix: str,
) -> dict[str, str]:
    """Create and fill the volumes; returns the sha256 of every file by its container path."""
    from docker.types import Mount

    if not volumes:
        return {}
    for index, volume in enumerate(volumes):
        volume.name = f"{prefix}-data{index}"
        client.volumes.create(volume.name, labels=labels)
    filler = client.containers.create(
        image,
        command=["true"],
        entrypoint=[],
        labels=labels,
        network_disabled=True,
        mounts=[Mount(f"{FILL_AT}/{i}", v.name, type="volume") for i, v in enumerate(volumes)],
        use_config_proxy=False,
    )
    hashes = HashIndex.load()
    digests: dict[str, str] = {}
    try:
        for index, volume in enumerate(volumes):
            packed = copy_in(filler, f"{FILL_AT}/{index}", volume, hashes)
            digests |= _at_mount(volume, packed.digests)
    finally:
        filler.remove(force=True)
        hashes.save()
    return digests


def copy_in(filler: Container, at: str, volume: DataVolume, hashes: HashIndex) -> Packed:
    """Stream the volume's files into `at` of a container mounting it, hashed on the way."""
    packed = pack(volume.entries, volume.folders, index=hashes)
    if not filler.put_archive(at, packed.chunks()):
        raise SandboxError(f"could not copy the data for {volume.mount} into the sandbox")
    return packed


def _at_mount(volume: DataVolume, digests: dict[str, str]) -> dict[str, str]:
    """Member names as container paths."""
    return {
        posixpath.normpath(posixpath.join(volume.mount, member)): digest
        for member, digest in digests.items()
    }


def data_plan(service: str, volumes: list[DataVolume]) -> list[str]:
    """What data a service mounts where, in words: part of its fingerprint (sandbox/reuse.py)."""
    return sorted(
        f"{v.mount}={','.join(name for _, name in v.entries)}"
        for v in volumes
        if service in v.services
    )


def mounts_for(service: str, volumes: list[DataVolume]) -> list[object]:
    from docker.types import Mount

    return [
        Mount(v.mount, v.name, type="volume", read_only=True)
        for v in volumes
        if service in v.services
    ]
